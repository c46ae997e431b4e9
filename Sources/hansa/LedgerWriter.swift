import ArgumentParser
import ChainTypes
import Foundation
import Ledger
import LevelDBStore

/// `hansa dev ledger-writer`: applies dev-chain blocks to a LevelDB ledger as fast as it can,
/// resuming from the head. The crash test kills it with SIGKILL at random moments and
/// checks that the directory always reopens at a whole block.
struct LedgerWriter: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ledger-writer",
                                                    abstract: "Write dev-chain blocks to a LevelDB ledger (crash testing).")

    @Option(help: "The data directory.")
    var dataDir: String

    @Option(help: "Stop after this many blocks in total.")
    var blocks: UInt64 = 1_000

    @Option(help: "Transfers per block.")
    var transfers: Int = 50

    func run() throws {
        let dev = DevChain(users: 64)
        let store = try LevelDBLedgerStore(path: dataDir)
        let ledger = try Ledger(store: store, genesis: dev.genesis)
        ledger.setSignatureChecks(false)
        while ledger.head.height < blocks {
            let height = ledger.head.height
            // Each user sends once per block, so its nonce is the number of blocks so far.
            let txs = (0..<transfers).map { i in
                dev.transfer(from: i % 64, to: (i + 1) % 64, amount: 1, nonce: height * UInt64((transfers + 63) / 64) + UInt64(i / 64),
                             signed: false)
            }
            let (block, cert) = try dev.nextBlock(on: ledger, txs)
            try ledger.apply(block, certificate: cert)
            FileHandle.standardOutput.write(Data("applied \(ledger.head.height)\n".utf8))
        }
    }
}
