import ChainTypes
import ContractVM
import Foundation
import Ledger
import TradeFinance
import LevelDBStore

/// A host call timed in whole blocks through the ledger: `txs` calls of `function(n, k, b)`,
/// each running the operation `n` times on keys `k ..< k + n`, against a block of as many
/// calls of `base` (the same loop without the operation). The difference covers everything
/// the operation causes: the overlay, the receipt, the Merkle-tree update and the store write
/// at the block's end.
struct LedgerGasCase {
    var name: String
    var function: String
    var n: Int
    var txs: Int
    /// Which keys the calls use.
    enum Keys { case fresh, existing }
    var keys: Keys = .fresh
    /// Length of the bytes argument.
    var bytes = 0
    /// The loop without the operation.
    var baseline = "base"
    /// The keys were just written, so the node's read caches hold them: cheaper than the
    /// price, which must cover a miss (`GasRow.pricedForAMiss`).
    var cached = false
}

/// Accounts the `*_each` cases pay or read, each once per block.
let ledgerBenchPayees = 2_000

let ledgerBenchContract = """
    const PAYEES = \(ledgerBenchPayees);
    map m: int => int;
    map big: int => bytes;
    event E(v: int);
    event Big(b: bytes);
    init() { }
    pub fn base(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { i = i + 1; } return a; }
    pub fn store_new(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { m[k + i] = k + 1; i = i + 1; } return a; }
    pub fn store_over(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { m[k + i] = k + 2; i = i + 1; } return a; }
    pub fn store_big(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { big[k + i] = b; i = i + 1; } return a; }
    pub fn load(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { a = a + m[k + i]; i = i + 1; } return a; }
    pub fn remove(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { delete m[k + i]; i = i + 1; } return a; }
    pub fn emit_small(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { emit E(i); i = i + 1; } return a; }
    pub fn emit_big(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { emit Big(b); i = i + 1; } return a; }
    pub fn pay_back(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { pay(caller(), "USD", 1); i = i + 1; } return a; }
    pub fn balances(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { a = a + balance(caller(), "USD"); i = i + 1; } return a; }
    pub fn roles(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { a = a + role_of(caller()); i = i + 1; } return a; }
    map who: int => address;
    pub fn set_who(i: int, a: address) { who[i] = a; }
    pub fn base_who(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { let w = who[(k + i) % PAYEES]; i = i + 1; } return a; }
    pub fn pay_each(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { pay(who[(k + i) % PAYEES], "USD", 1); i = i + 1; } return a; }
    pub fn balance_each(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { a = a + balance(who[(k + i) % PAYEES], "USD"); i = i + 1; } return a; }
    pub fn role_each(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { a = a + role_of(who[(k + i) % PAYEES]); i = i + 1; } return a; }
    pub fn store_same(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { m[k] = i; i = i + 1; } return a; }
    pub fn load_same(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { a = a + m[k]; i = i + 1; } return a; }
    pub fn load_big(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { a = a + len(big[k + i]); i = i + 1; } return a; }
    pub fn later(n: int, k: int, b: bytes) -> int { let i = 0; let a = 0; while i < n { schedule tick(i) at now() + 1000000000000 + i; i = i + 1; } return a; }
    sched fn tick(i: int) { }
    """

/// In the order they run in a trial: the stores create the slots the later cases use.
let ledgerGasCases: [LedgerGasCase] = [
    LedgerGasCase(name: "storage_store, new slot (11 B key, 8 B value)", function: "store_new", n: 250, txs: 20),
    LedgerGasCase(name: "storage_store, overwrite (different value)", function: "store_over", n: 250, txs: 20, keys: .existing),
    LedgerGasCase(name: "storage_store, one slot again and again", function: "store_same", n: 250, txs: 20),
    LedgerGasCase(name: "storage_load, existing slot, cached", function: "load", n: 250, txs: 20, keys: .existing, cached: true),
    LedgerGasCase(name: "storage_load, one existing slot again and again", function: "load_same", n: 250, txs: 20, keys: .existing),
    LedgerGasCase(name: "storage_delete, existing slot", function: "remove", n: 250, txs: 20, keys: .existing),
    LedgerGasCase(name: "storage_load, absent slot", function: "load", n: 250, txs: 20),
    LedgerGasCase(name: "storage_delete, absent slot", function: "remove", n: 250, txs: 20),
    LedgerGasCase(name: "storage_store, new slot, 4000 B value", function: "store_big", n: 50, txs: 20, bytes: 4_000),
    LedgerGasCase(name: "storage_load, existing 4000 B value, cached", function: "load_big", n: 50, txs: 20, keys: .existing, cached: true),
    LedgerGasCase(name: "emit, 9 B data", function: "emit_small", n: 60, txs: 80),
    LedgerGasCase(name: "emit, 4003 B data", function: "emit_big", n: 60, txs: 20, bytes: 4_000),
    LedgerGasCase(name: "pay, back to the caller", function: "pay_back", n: 60, txs: 80),
    LedgerGasCase(name: "pay, to a different account each time", function: "pay_each", n: 50, txs: 40, baseline: "base_who"),
    LedgerGasCase(name: "balance, the caller's", function: "balances", n: 250, txs: 20),
    LedgerGasCase(name: "balance, a different account each time", function: "balance_each", n: 50, txs: 40, baseline: "base_who"),
    LedgerGasCase(name: "role_of, the caller", function: "roles", n: 250, txs: 20),
    LedgerGasCase(name: "role_of, a different account each time", function: "role_each", n: 50, txs: 40, baseline: "base_who"),
    LedgerGasCase(name: "schedule (a call in the far future)", function: "later", n: 16, txs: 16),
]

/// A ledger with the bench contract, on the in-memory store or LevelDB.
final class LedgerGasBench {
    let chain: TradeDevChain
    let root: String?
    var contract: Address
    private var nextKey: Int64 = 1_000_000
    let code: [UInt8]

    init(store: String) throws {
        let kv: any KeyValueStore
        switch store {
        case "memory": kv = MemoryStore(); root = nil
        case "leveldb":
            let dir = NSTemporaryDirectory() + "hansa-bench-gas-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            kv = try LevelDBLedgerStore(path: dir + "/ledger"); root = dir
        default: throw CLIError("unknown store \(store); use memory or leveldb")
        }
        chain = try TradeDevChain(store: kv, importerDeposit: 1_000_000_000_00, users: ledgerBenchPayees)
        chain.ledger.setSignatureChecks(false)
        code = try Compiler.compile(ledgerBenchContract, file: "gasbench.hc").bytecode
        contract = Executor.contractAddress(deployer: chain.issuingBank.publicKey.address, nonce: 0)
        contract = try deploy()
        // Escrow for `pay`, sent with a call.
        try check(try chain.commit([chain.tx(chain.importer, .callContract, CallPayload(contract: contract, input: input("base", 0, 0, 0),
                                                                                          value: Amount(10_000_000_00, chain.dev.usd)), gas: 1_000_000)]))
        try check(try chain.commit(chain.dev.userKeys.indices.map { i in
            chain.tx(chain.importer, .callContract, CallPayload(contract: contract, input: ABI.encodeCall("set_who", [.int(Int64(i)), .address(chain.dev.userKeys[i].publicKey.address)])),
                     gas: 1_000_000)
        }))
    }

    deinit { if let root { try? FileManager.default.removeItem(atPath: root) } }

    func deploy() throws -> Address {
        let (tx, address) = chain.deploy(code, [])
        try check(try chain.commit([tx]))
        return address
    }

    func input(_ f: String, _ n: Int, _ k: Int64, _ bytes: Int) -> [UInt8] {
        ABI.encodeCall(f, [.int(Int64(n)), .int(k), .bytes([UInt8](repeating: 0x5a, count: bytes))])
    }

    func check(_ receipts: [Receipt]) throws {
        for r in receipts where !r.succeeded { throw CLIError("gas bench transaction failed: \(r.status)") }
    }

    /// Key ranges no call has used.
    func freshKeys(_ c: LedgerGasCase) -> [Int64] {
        defer { nextKey += Int64(c.n * c.txs) }
        return (0..<c.txs).map { nextKey + Int64($0 * c.n) }
    }

    /// One block of `c`'s calls (or, `base`, of the loop alone) on `keys`: seconds and gas.
    func block(_ c: LedgerGasCase, keys: [Int64], base: Bool, on target: Address? = nil) throws -> (seconds: Double, gas: UInt64) {
        let txs = keys.map { k in
            chain.tx(chain.importer, .callContract, CallPayload(contract: target ?? contract, input: input(base ? c.baseline : c.function, c.n, k, c.bytes)),
                     gas: 50_000_000)
        }
        let before = chain.applySeconds
        let receipts = try chain.commit(txs)
        try check(receipts)
        return (chain.applySeconds - before, receipts.reduce(0) { $0 + $1.gasUsed })
    }

    /// Writes `slots` slots the cases never touch, so that the tree has a realistic depth.
    func populate(slots: Int) throws {
        let c = LedgerGasCase(name: "", function: "store_new", n: 500, txs: 40)
        for _ in 0..<max(1, slots / (c.n * c.txs)) { _ = try block(c, keys: freshKeys(c), base: false) }
    }
}

/// Host calls through the ledger: one row per case, median of `trials` ratios.
func ledgerRows(_ reference: ArithmeticReference, trials: Int, store: String, contractPath: String) throws -> [GasRow] {
    let bench = try LedgerGasBench(store: store)
    try bench.populate(slots: 60_000)
    var ratios = [[Double]](repeating: [], count: ledgerGasCases.count), perOp = ratios
    var gasPerOp = [Double](repeating: 0, count: ledgerGasCases.count)
    for _ in 0..<trials {
        var existing: [Int64] = []
        let scheduler = try bench.deploy()
        for (i, c) in ledgerGasCases.enumerated() {
            var keys = bench.freshKeys(c)
            if c.keys == .existing { keys = existing } else if c.function == "store_new" || c.function == "store_big" { existing = keys }
            let target = c.function == "later" ? scheduler : nil
            let base = try bench.block(c, keys: keys, base: true, on: target)
            let op = try bench.block(c, keys: keys, base: false, on: target)
            let ref = reference.measure()
            let ops = Double(c.n * c.txs), dGas = Double(op.gas - base.gas), dNs = (op.seconds - base.seconds) * 1e9
            gasPerOp[i] = dGas / ops
            perOp[i].append(dNs / ops)
            ratios[i].append(dNs / dGas / ref)
        }
    }
    var rows = ledgerGasCases.indices.map { i in
        GasRow(name: ledgerGasCases[i].name + " [\(store)]", gasPerOp: gasPerOp[i], nsPerOp: median(perOp[i]), ratio: median(ratios[i]),
               pricedForAMiss: ledgerGasCases[i].cached)
    }
    rows += try codeLoadingRows(bench, reference, trials: trials, contractPath: contractPath)
    return rows
}
