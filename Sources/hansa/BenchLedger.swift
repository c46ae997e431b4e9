import ChainTypes
import Foundation
import Ledger
import LevelDBStore

/// Resident memory of this process, from /proc/self/statm.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Times a `KeyValueStore`'s writes (the per-block commit cost).
final class TimedStore: KeyValueStore {
    let inner: any KeyValueStore
    var writeSeconds = 0.0
    var writes = 0
    var bytes = 0
    init(_ inner: any KeyValueStore) { self.inner = inner }
    func get(_ key: [UInt8]) throws(StoreError) -> [UInt8]? { try inner.get(key) }
    func scan(prefix: [UInt8], from start: [UInt8]?, _ body: ([UInt8], [UInt8]) -> Bool) throws(StoreError) {
        try inner.scan(prefix: prefix, from: start, body)
    }
    func write(_ batch: StoreBatch, sync: Bool) throws(StoreError) {
        let t = ContinuousClock().now
        try inner.write(batch, sync: sync)
        writeSeconds += (ContinuousClock().now - t).seconds
        writes += 1
        bytes += batch.byteCount
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

func ledgerSuite(transactions total: Int, users: Int = 10_000, perBlock: Int = 2_000) throws {
    print("ledger (one thread, LevelDB on \(NSTemporaryDirectory()))")
    let root = NSTemporaryDirectory() + "hansa-bench-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: root) }
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)

    // Reference: raw LevelDB, synced batches shaped like a block's (puts of ~150 bytes).
    let raw = try LevelDB(path: root + "/raw")
    let clock = ContinuousClock()
    var t = clock.now
    let rawBatches = 50
    for b in 0..<rawBatches {
        var batch = StoreBatch()
        for i in 0..<perBlock * 4 { batch.put(Array(SHA256.hash(utf8: "\(b)/\(i)").bytes), [UInt8](repeating: UInt8(i & 0xff), count: 150)) }
        try raw.write(batch, sync: true)
    }
    let rawSeconds = (clock.now - t).seconds
    let rawPuts = Double(rawBatches * perBlock * 4) / rawSeconds
    print(String(format: "  raw LevelDB: synced batches of %d puts of 150 B          %10.0f puts/s, %.1f ms per batch",
                 perBlock * 4, rawPuts, rawSeconds / Double(rawBatches) * 1000))

    let dev = DevChain(users: users)
    let store = TimedStore(try LevelDBLedgerStore(path: root + "/ledger"))
    let ledger = try Ledger(store: store, genesis: dev.genesis)
    ledger.setSignatureChecks(false)
    store.writeSeconds = 0
    var sent = 0
    func nextTransfers(_ n: Int, signed: Bool) -> [Transaction] {
        let txs = (0..<n).map { k -> Transaction in
            let g = sent + k
            return dev.transfer(from: g % users, to: (g + 1) % users, amount: 1, nonce: UInt64(g / users), signed: signed)
        }
        sent += n
        return txs
    }

    // Without signature checks, over `total` transactions, with resident memory samples.
    let rssStart = residentBytes()
    var samples: [(Int, Int)] = [(0, rssStart)]
    var applySeconds = 0.0
    let blocks = max(1, total / perBlock)
    let bytesBefore = directoryBytes(root + "/ledger")
    for b in 0..<blocks {
        let (block, cert) = try dev.nextBlock(on: ledger, nextTransfers(perBlock, signed: false))
        t = clock.now
        try ledger.apply(block, certificate: cert)
        applySeconds += (clock.now - t).seconds
        if (b + 1) % max(1, blocks / 8) == 0 { samples.append(((b + 1) * perBlock, residentBytes())) }
    }
    let applied = Double(blocks * perBlock)
    let rate = applied / applySeconds
    print(String(format: "  Hansa apply, no signature checks (%d blocks × %d transfers) %10.0f transfers/s  (goal ≥ 20000: %.2f×)",
                 blocks, perBlock, rate, rate / 20_000))
    print(String(format: "  per-block commit (one synced batch, %.0f KiB):               %10.1f ms  (%.2f× a raw batch of %d puts)",
                 Double(store.bytes) / Double(store.writes) / 1024, store.writeSeconds / Double(store.writes) * 1000,
                 (store.writeSeconds / Double(store.writes)) / (rawSeconds / Double(rawBatches)), perBlock * 4))
    let diskAfter = directoryBytes(root + "/ledger")
    print(String(format: "  disk: %.0f bytes per transaction (LevelDB directory, compressed)", Double(diskAfter - bytesBefore) / applied))
    print("  resident memory (transactions applied → MiB): " + samples.map { "\($0.0) → \($0.1 / 1_048_576)" }.joined(separator: ", "))
    let growth = Double(samples.last!.1 - samples[min(1, samples.count - 1)].1) / 1_048_576
    print(String(format: "  resident growth after the first sample: %.1f MiB", growth))

    // With signature checks: transactions signed beforehand, verified during execution.
    ledger.setSignatureChecks(true)
    let signedBlocks = 5
    let signedTxs = (0..<signedBlocks).map { _ in nextTransfers(perBlock, signed: true) }
    var signedSeconds = 0.0
    for txs in signedTxs {
        ledger.setSignatureChecks(false)
        let (block, cert) = try dev.nextBlock(on: ledger, txs)
        ledger.setSignatureChecks(true)
        t = clock.now
        try ledger.apply(block, certificate: cert)
        signedSeconds += (clock.now - t).seconds
    }
    let signedRate = Double(signedBlocks * perBlock) / signedSeconds
    print(String(format: "  Hansa apply, signature checks (%d blocks × %d transfers)     %10.0f transfers/s", signedBlocks, perBlock, signedRate))
}

func directoryBytes(_ path: String) -> Int {
    guard let files = try? FileManager.default.contentsOfDirectory(atPath: path) else { return 0 }
    return files.reduce(0) { sum, f in
        sum + ((try? FileManager.default.attributesOfItem(atPath: path + "/" + f)[.size] as? Int) ?? 0)
    }
}
