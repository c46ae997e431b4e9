import ChainTypes
import Foundation
import Ledger
import LevelDBStore
import Simulator

/// Resident memory of this process, from /proc/self/statm.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Times a `KeyValueStore`'s writes (the per-block commit cost) and sorts the bytes they
/// carry by the part of the ledger they belong to (the first two bytes of each key).
final class TimedStore: KeyValueStore {
    let inner: any KeyValueStore
    var writeSeconds = 0.0
    var writes = 0
    var bytes = 0
    /// Bytes (key + value) and operations by key prefix, e.g. "n/" (state-tree nodes).
    var bytesByPart: [String: Int] = [:]
    var operationsByPart: [String: Int] = [:]
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
        unsorted.append(batch)
    }
    /// Batches written but not yet sorted by part: `sortBytes()` does it outside the timing.
    private var unsorted: [StoreBatch] = []
    func sortBytes() {
        for batch in unsorted { sort(batch) }
        unsorted.removeAll()
    }
    private func sort(_ batch: StoreBatch) {
        for op in batch.operations {
            let (key, count): ([UInt8], Int) = switch op {
            case .put(let k, let v): (k, k.count + v.count)
            case .delete(let k): (k, k.count)
            }
            let part = String(decoding: key.prefix(2), as: UTF8.self)
            bytesByPart[part, default: 0] += count
            operationsByPart[part, default: 0] += 1
        }
    }
    func reset() {
        writeSeconds = 0; writes = 0; bytes = 0; unsorted = []
        bytesByPart = [:]; operationsByPart = [:]
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// What each key prefix of a block's batch holds (docs/LEDGER.md, key layout).
let ledgerParts: [(prefix: String, name: String)] = [
    ("v/", "state values"), ("n/", "state-tree nodes"), ("b/", "block"), ("t/", "transaction index"),
    ("r/", "receipts"), ("c/", "certificate"), ("h/", "block index"), ("m/", "head"),
]

/// `scripts/bench ledger`: raw LevelDB as the reference, then blocks of `perBlock` transfers
/// among 10 000 accounts (`transactions` of them) and among 1 000 000 (`largeTransactions`),
/// each transfer from one of the 10 000 signing users to a recipient drawn at random among
/// all accounts, so a block updates about 2 × `perBlock` state keys spread over the tree.
func ledgerSuite(transactions total: Int, largeTransactions: Int? = nil, users: Int = 10_000, perBlock: Int = 2_000) throws {
    print("ledger (one thread, LevelDB on \(NSTemporaryDirectory()))")
    let root = NSTemporaryDirectory() + "hansa-bench-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: root) }
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)

    // Reference: raw LevelDB, synced batches shaped like a block's (puts of ~150 bytes); the
    // median of 9 rounds of 8 batches, since a single round on this kind of machine swings
    // by ±30 % (and the ratio with it).
    let raw = try LevelDB(path: root + "/raw")
    let clock = ContinuousClock()
    var rounds: [Double] = []
    for round in 0..<9 {
        let t = clock.now
        for b in 0..<8 {
            var batch = StoreBatch()
            for i in 0..<perBlock * 4 { batch.put(Array(SHA256.hash(utf8: "\(round)/\(b)/\(i)").bytes), [UInt8](repeating: UInt8(i & 0xff), count: 150)) }
            try raw.write(batch, sync: true)
        }
        rounds.append((clock.now - t).seconds / 8)
    }
    let rawBatchSeconds = rounds.sorted()[rounds.count / 2]
    let rawPuts = Double(perBlock * 4) / rawBatchSeconds
    print(String(format: "  raw LevelDB: synced batches of %d puts of 150 B          %10.0f puts/s, %.1f ms per batch (median of 9 rounds; %.1f–%.1f)",
                 perBlock * 4, rawPuts, rawBatchSeconds * 1000, rounds.min()! * 1000, rounds.max()! * 1000))
    let dev = DevChain(users: users)
    try ledgerRun(dev: dev, accounts: users, transactions: total, perBlock: perBlock, root: root + "/small",
                  rawPuts: rawPuts, rawBatchSeconds: rawBatchSeconds, goal: 0.08, signed: true)
    try ledgerRun(dev: dev, accounts: 1_000_000, transactions: largeTransactions ?? min(total, 200_000), perBlock: perBlock,
                  root: root + "/large", rawPuts: rawPuts, rawBatchSeconds: rawBatchSeconds, goal: 0.06, signed: false)
}

/// One ledger of `accounts` accounts: the first `dev.userKeys.count` are the genesis users,
/// the rest are written into the genesis state directly (the bench's shortcut: a genesis
/// file holds at most `Limits.maxGenesisParticipants`), with the genesis state root
/// recorded as the ledger's, exactly as if genesis had held them.
func ledgerRun(dev: DevChain, accounts: Int, transactions total: Int, perBlock: Int, root: String,
               rawPuts: Double, rawBatchSeconds: Double, goal: Double, signed: Bool) throws {
    let users = dev.userKeys.count
    print("  — blocks of \(perBlock) transfers among \(accounts) accounts")
    let clock = ContinuousClock()
    let store = TimedStore(try LevelDBLedgerStore(path: root))
    var recipients = dev.userKeys.map { $0.publicKey.address }
    if accounts > users {
        let seedStart = clock.now
        _ = try Ledger(store: store, genesis: dev.genesis, cacheBytes: 0)
        // Straight into LevelDB: the timed store would keep every seeding batch for its byte count.
        recipients += try seedAccounts(accounts - users, into: store.inner, bank: dev.validatorKeys[0].publicKey.address)
        print(String(format: "    seeded %d more accounts into the genesis state in %.1f s", accounts - users, (clock.now - seedStart).seconds))
    }
    let ledger = try Ledger(store: store, genesis: dev.genesis)
    ledger.setSignatureChecks(false)
    // Seeded, so that every run picks the same recipients.
    var random = SimRandom(seed: UInt64(accounts))
    var sent = 0
    func nextTransfers(_ n: Int, signed: Bool) -> [Transaction] {
        let txs = (0..<n).map { k -> Transaction in
            let g = sent + k
            let to = recipients[Int(random.next() % UInt64(recipients.count))]
            let payload = TransferPayload(to: to == dev.userKeys[g % users].publicKey.address ? recipients[(g + 1) % users] : to,
                                          currency: dev.usd, amount: 1)
            return dev.transfer(from: g % users, payload: payload, nonce: UInt64(g / users), signed: signed)
        }
        sent += n
        return txs
    }

    // Without signature checks, over `total` transactions, with resident memory samples.
    store.reset()
    let rssStart = residentBytes()
    var samples: [(Int, Int)] = [(0, rssStart)]
    var applySeconds = 0.0, executeSeconds = 0.0, applyCPUSeconds = 0.0
    let blocks = max(1, total / perBlock)
    let bytesBefore = directoryBytes(root)
    for b in 0..<blocks {
        let (block, cert) = try dev.nextBlock(on: ledger, nextTransfers(perBlock, signed: false))
        let t = clock.now
        let cpu = threadCPUSeconds()
        // Split in two: execution (kept by the ledger), then the commit that reuses it.
        if let reason = try ledger.rejection(of: block) { throw CLIError("the benchmark's block was refused: \(reason)") }
        let executed = clock.now
        try ledger.apply(block, certificate: cert)
        executeSeconds += (executed - t).seconds
        applySeconds += (clock.now - t).seconds
        applyCPUSeconds += threadCPUSeconds() - cpu
        store.sortBytes()
        if (b + 1) % max(1, blocks / 8) == 0 { samples.append(((b + 1) * perBlock, residentBytes())) }
    }
    let applied = Double(blocks * perBlock)
    let rate = applied / applySeconds
    print(String(format: "    apply, no signature checks (%d blocks):  %8.0f transfers/s = %.4f of raw LevelDB puts/s (goal ≥ %.2f: %.2f×)",
                 blocks, rate, rate / rawPuts, goal, rate / rawPuts / goal))
    print(String(format: "    per block: %.1f ms = execution and state root %.1f ms + commit %.1f ms (of which the synced LevelDB write %.1f ms)",
                 applySeconds / Double(blocks) * 1000, executeSeconds / Double(blocks) * 1000,
                 (applySeconds - executeSeconds) / Double(blocks) * 1000, store.writeSeconds / Double(blocks) * 1000))
    print(String(format: "    CPU time of this thread per block: %.1f ms (wall time less waiting for the disk and for the machine)",
                 applyCPUSeconds / Double(blocks) * 1000))
    let perWrite = store.writeSeconds / Double(store.writes)
    print(String(format: "    per-block commit (one synced batch, %.0f KiB): %.1f ms (%.2f× a raw batch)",
                 Double(store.bytes) / Double(store.writes) / 1024, perWrite * 1000, perWrite / rawBatchSeconds))
    let treeNodes = Double(store.operationsByPart["n/", default: 0])
    let stateKeys = Double(store.operationsByPart["v/", default: 0])
    print(String(format: "    written per transfer: %.0f bytes (before compression); tree nodes per updated state key: %.2f",
                 Double(store.bytes) / applied, treeNodes / max(1, stateKeys)))
    print("    bytes per transfer by part: " + ledgerParts.compactMap { part in
        store.bytesByPart[part.prefix].map { String(format: "%@ %.0f", part.name, Double($0) / applied) }
    }.joined(separator: ", "))
    print(String(format: "    disk: %.0f bytes per transaction (LevelDB directory, compressed)", Double(directoryBytes(root) - bytesBefore) / applied))
    print("    resident memory (transactions applied → MiB): " + samples.map { "\($0.0) → \($0.1 / 1_048_576)" }.joined(separator: ", "))
    let growth = Double(samples.last!.1 - samples[min(1, samples.count - 1)].1) / 1_048_576
    print(String(format: "    resident growth after the first sample: %.1f MiB", growth))

    guard signed else { return }
    // With signature checks: transactions signed beforehand, verified during execution.
    let signedBlocks = 5
    let signedTxs = (0..<signedBlocks).map { _ in nextTransfers(perBlock, signed: true) }
    var signedSeconds = 0.0
    for txs in signedTxs {
        let (block, cert) = try dev.nextBlock(on: ledger, txs)
        ledger.setSignatureChecks(true)
        let t = clock.now
        try ledger.apply(block, certificate: cert)
        signedSeconds += (clock.now - t).seconds
        ledger.setSignatureChecks(false)
    }
    let signedRate = Double(signedBlocks * perBlock) / signedSeconds
    print(String(format: "    apply, signature checks (%d blocks):     %8.0f transfers/s", signedBlocks, signedRate))
}

/// Writes `count` accounts (no key, exporters of `bank`, no balance) into the ledger's genesis
/// state in `store`, and the new state root as the genesis state root. Their addresses.
func seedAccounts(_ count: Int, into store: any KeyValueStore, bank: Address) throws -> [Address] {
    var addresses: [Address] = []
    addresses.reserveCapacity(count)
    let tree = SparseMerkleTree(store: store, prefix: Ledger.Keys.stateNodePrefix)
    let chunk = 100_000
    var done = 0
    while done < count {
        var batch = StoreBatch()
        var changes: [Hash: Hash?] = [:]
        for i in done..<min(count, done + chunk) {
            let address = Address(bytes: Array(SHA256.hash(utf8: "bench account \(i)").bytes.prefix(Address.byteCount)))!
            addresses.append(address)
            let value = Account(publicKey: nil, role: .exporter, bank: bank).canonicalBytes
            let key = StateKey.hash(StateKey.account(address))
            batch.put(StateOverlay.valuePrefix + key.bytes, value)
            changes[key] = SHA256.hash(value)
        }
        let root = try tree.update(changes, into: &batch)
        batch.put(Ledger.Keys.genesisStateRoot, root.bytes)
        try store.write(batch, sync: true)
        done += chunk
    }
    return addresses
}

func directoryBytes(_ path: String) -> Int {
    guard let files = try? FileManager.default.contentsOfDirectory(atPath: path) else { return 0 }
    return files.reduce(0) { sum, f in
        sum + ((try? FileManager.default.attributesOfItem(atPath: path + "/" + f)[.size] as? Int) ?? 0)
    }
}

/// CPU time this thread has used, in seconds.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}
