import ChainTypes
import Foundation
import Ledger
import LevelDBStore
import HansaTestSupport
import Testing

/// A real process applies blocks to a LevelDB ledger and is killed with SIGKILL at arbitrary
/// moments; every time, the directory reopens at a whole committed block and the writer
/// resumes from there.
@Suite("Ledger on LevelDB: kill -9")
struct KillNineTests {

    @Test("kill -9 at random moments never leaves half a block", .timeLimit(.minutes(2)))
    func killNine() throws {
        let dir = NSTemporaryDirectory() + "hansa-kill9-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dev = DevChain(users: 64)
        var previous: UInt64 = 0
        // Fixed, varied delays: the kill lands in different phases of block writing.
        for (round, delayMillis) in [350, 620, 480, 900, 410].enumerated() {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: try HansaExecutable.path())
            p.arguments = ["dev", "ledger-writer", "--data-dir", dir, "--blocks", "1000000", "--transfers", "40"]
            let output = Pipe()
            p.standardOutput = output
            p.standardError = FileHandle.nullDevice
            try p.run()
            // Wait for the writer's first applied block (on a loaded machine starting can take
            // longer than the delay), then let it run on for the delay before the kill.
            let firstLine = output.fileHandleForReading.availableData
            #expect(String(decoding: firstLine, as: UTF8.self).hasPrefix("applied"), "round \(round): the writer printed nothing")
            usleep(UInt32(delayMillis) * 1000)
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            #expect(p.terminationReason == .uncaughtSignal)

            // Opening checks the head block, its certificate and that the state tree's root
            // equals the head's state root.
            let ledger = try Ledger(store: try LevelDBLedgerStore(path: dir), genesis: dev.genesis)
            let head = ledger.head.height
            #expect(head > previous, "round \(round): no progress (head \(head))")
            var parent = dev.genesis.hash
            for h in 1...head {
                let block = try #require(try ledger.block(at: h), "block \(h) missing")
                #expect(block.header.previousHash == parent)
                #expect(try ledger.certificate(at: h)?.blockHash == block.hash)
                #expect(try ledger.receipts(at: h)?.count == block.transactions.count)
                parent = block.hash
            }
            #expect(parent == ledger.head.hash)
            previous = head
        }
    }

    @Test("a LevelDB directory of another chain is refused without a write")
    func otherChain() throws {
        let dir = NSTemporaryDirectory() + "hansa-chain-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do { _ = try Ledger(store: try LevelDBLedgerStore(path: dir), genesis: DevChain(users: 2).genesis) }
        do {
            _ = try Ledger(store: try LevelDBLedgerStore(path: dir), genesis: DevChain(users: 3).genesis)
            Issue.record("opened another chain's directory")
        } catch let error as LedgerError {
            guard case .wrongChain = error else { Issue.record("\(error)"); return }
        }
        // Still the first chain's, intact.
        _ = try Ledger(store: try LevelDBLedgerStore(path: dir), genesis: DevChain(users: 2).genesis)
    }
}
