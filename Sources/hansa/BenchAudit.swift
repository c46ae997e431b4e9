import Audit
import ChainTypes
import Foundation
import HansaConfig
import HansaCrypto
import Ledger
import LevelDBStore
import Simulator

/// `scripts/bench audit`: the auditor's verification rate (blocks of `perBlock` signed
/// transfers among `users` accounts) as a ratio to the 2-thread raw libsecp256k1 verify
/// rate measured in the same run — every transaction costs the auditor one signature check,
/// so that rate is its ceiling on two cores. Goal ≥ 0.7. Measured from an archive (the
/// verification alone) and from the LevelDB data directory it was exported from (with the
/// directory's indexes, state values and tree pages checked too).
func auditSuite(transactions total: Int, users: Int = 10_000, perBlock: Int = 2_000, threads: Int = 2) throws {
    print("audit (\(threads) threads; chain built under \(NSTemporaryDirectory()))")
    let root = NSTemporaryDirectory() + "hansa-bench-audit-" + UUID().uuidString
    let keep = ProcessInfo.processInfo.environment["HANSA_KEEP"] == "1"
    defer { if keep { print("  kept: \(root) (genesis.json, data/, chain.hansa-archive)") } else { try? FileManager.default.removeItem(atPath: root) } }
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    let clock = ContinuousClock()

    // The chain: signed transfers, built on a ledger that skips the checks (they are the auditor's).
    let dev = DevChain(users: users)
    let blocks = max(1, total / perBlock)
    let built = clock.now
    do {
        let ledger = try Ledger(store: try LevelDBLedgerStore(path: root + "/data"), genesis: dev.genesis)
        ledger.setSignatureChecks(false)
        var random = SimRandom(seed: 7)
        for b in 0..<blocks {
            let plan = (0..<perBlock).map { k -> (Int, Int, UInt64) in
                let g = b * perBlock + k
                var to = Int(random.next() % UInt64(users))
                if to == g % users { to = (to + 1) % users }
                return (g % users, to, UInt64(g / users))
            }
            let signed = NIOLockedTransactions(count: perBlock)
            DispatchQueue.concurrentPerform(iterations: 2) { half in
                for k in stride(from: half, to: perBlock, by: 2) {
                    let (from, to, nonce) = plan[k]
                    signed.set(k, dev.transfer(from: from, to: to, amount: 1, nonce: nonce))
                }
            }
            let (block, certificate) = try dev.nextBlock(on: ledger, signed.all)
            try ledger.apply(block, certificate: certificate)
        }
    }
    let archive = root + "/chain.hansa-archive"
    try GenesisFile.write(dev.genesis, to: root + "/genesis.json")
    try Archive.export(from: try DataDirectorySource(path: root + "/data"), genesis: dev.genesis, to: archive)
    print(String(format: "  built %d blocks of %d signed transfers among %d accounts in %.1f s; archive %.1f MiB",
                 blocks, perBlock, users, (clock.now - built).seconds, Double((try? FileManager.default.attributesOfItem(atPath: archive)[.size] as? Int) ?? 0) / 1048576))

    // Where a transaction's cost goes, on one thread: its signature check alone, then the
    // whole verification (decode, signatures, certificates, re-execution, roots).
    let sample = try Block(canonicalBytes: try LevelDBLedgerStore.openReadOnly(path: root + "/data").get(Array("b/".utf8) + [0, 0, 0, 0, 0, 0, 0, 1])!).transactions
    let single = measureRate("one thread: Transaction.verifySignature (the auditor's check)", seconds: 2, batch: sample.count) { n in
        for i in 0..<n { precondition(sample[i % sample.count].verifySignature()) }
    }
    let raw1 = measureRate("one thread: raw libsecp256k1 verify", seconds: 2, batch: 200) { n in
        let key = dev.userKeys[0].publicKey, digest = SHA256.hash(utf8: "m"), sig = dev.userKeys[0].sign(digest: digest)
        precondition(RawBenchmarks.secp256k1Verify(key: key, signature: sig, digest: digest, iterations: n) == n)
    }
    let oneThread = try Verifier(genesis: dev.genesis, threads: 1).verify(try ArchiveSource(path: archive)).rate
    print(String(format: "  one thread: audit verify %10.0f tx/s: %.1f µs a transaction, of which %.1f µs its signature (raw verify %.1f µs)",
                 oneThread, 1e6 / oneThread, 1e6 / single, 1e6 / raw1))
    let ceiling = twoThreadVerifyRate(seconds: 3)
    print(String(format: "  ceiling: 2-thread raw libsecp256k1 verify rate                %10.0f /s", ceiling))
    for (label, open) in [("from the archive", { () throws -> AuditSource in try ArchiveSource(path: archive) }),
                          ("from the data directory", { () throws -> AuditSource in try DataDirectorySource(path: root + "/data") })] {
        var rates: [Double] = []
        for _ in 0..<3 {
            let summary = try Verifier(genesis: dev.genesis, threads: threads).verify(try open())
            precondition(summary.transactions == blocks * perBlock, "the auditor verified \(summary.transactions) transactions")
            rates.append(summary.rate)
        }
        let rate = rates.sorted()[1]
        print(String(format: "  audit verify %@ (median of 3):%@%10.0f tx/s = %.3f of the ceiling (goal ≥ 0.70: %@)",
                     label, String(repeating: " ", count: max(1, 24 - label.count)), rate, rate / ceiling,
                     rate / ceiling >= 0.7 ? "OK" : "BELOW GOAL"))
    }
    auditMemory(entries: 1_000_000)
}

/// The auditor's state in memory: `entries` state values of `valueBytes` (about an
/// account's) with its tree, measured as the growth of the resident set.
func auditMemory(entries: Int, valueBytes: Int = 100) {
    let before = residentBytes()
    let tree = StateTree()
    var values: [Hash: [UInt8]] = [:]
    values.reserveCapacity(entries)
    var changes: [Hash: Hash?] = [:]
    for i in 0..<entries {
        let key = SHA256.hash(utf8: "entry \(i)")
        var value = [UInt8](repeating: UInt8(i & 0xff), count: valueBytes)
        value[0] = UInt8((i >> 8) & 0xff)
        values[key] = value
        changes[key] = SHA256.hash(value)
        if changes.count == 10_000 { tree.update(changes); changes.removeAll(keepingCapacity: true) }
    }
    tree.update(changes)
    let grown = max(0, residentBytes() - before)
    print(String(format: "  memory: %d state values of %d bytes with the auditor's tree: %.0f MB resident, %.0f bytes an entry",
                 entries, valueBytes, Double(grown) / 1e6, Double(grown) / Double(entries)))
    withExtendedLifetime((tree, values)) {}
}

/// Transactions written by index from several threads (each index once).
final class NIOLockedTransactions: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Transaction?]
    init(count: Int) { items = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ tx: Transaction) { lock.withLock { items[i] = tx } }
    var all: [Transaction] { lock.withLock { items.map { $0! } } }
}
