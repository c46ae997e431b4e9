import ChainTypes
import ContractVM
import Foundation
import Ledger
import TradeFinance
import LevelDBStore

/// The benchmark's loop in Swift, opaque to the optimiser (a varying seed, not inlined).
@inline(never)
func nativeSpin(_ n: Int64, seed: Int64) -> Int64 {
    var acc = seed
    var i: Int64 = 0
    while i < n {
        acc = acc + i * 3 % 7
        i = i + 1
    }
    return acc
}

/// `hansa bench vm`: the interpreter's instructions per second against the same loop compiled
/// natively (the interpretation overhead), and letter-of-credit lifecycle transactions per
/// second against plain transfers through the same ledger.
func vmSuite(seconds: Double, credits: Int, contractPath: String) throws {
    print("vm (one thread)")
    let source = """
    pub fn spin(n: int) -> int {
        let i = 0;
        let acc = 0;
        while i < n {
            acc = acc + i * 3 % 7;
            i = i + 1;
        }
        return acc;
    }
    """
    let program = try Verifier.verify(try Compiler.compile(source, file: "spin.hc").bytecode)
    let vm = HansaVM()
    let host = MemoryContractHost()
    let iterations: Int64 = 100_000
    let input = ABI.encodeCall("spin", [.int(iterations)])
    var instructions: UInt64 = 0
    var expected: Int64 = 0
    for i in 0..<iterations { expected += i * 3 % 7 }
    let runs = measureRate("VM: spin(100000) runs", seconds: seconds, batch: 1) { n in
        for _ in 0..<n {
            let (outcome, steps) = vm.runCounting(program, entry: .call, input: input, gasLimit: 50_000_000, host: host)
            precondition(outcome.succeeded && outcome.output == ABI.encode(.int(expected)), "\(outcome)")
            instructions = steps
        }
    }
    let vmRate = runs * Double(instructions)
    print(String(format: "  VM instructions                                                %12.0f /s  (%llu per run)", vmRate, instructions))
    var sink: Int64 = 0
    let native = measureRate("native Swift, the same loop with overflow checks, iterations", seconds: seconds, batch: 1) { n in
        for _ in 0..<n { sink = nativeSpin(iterations, seed: sink & 1) }
    }
    let vmIterations = runs * Double(iterations)
    let nativeIterations = native * Double(iterations)
    print(String(format: "  loop iterations: VM %.0f /s, native %.0f /s — interpretation overhead ×%.0f",
                 vmIterations, nativeIterations, nativeIterations / vmIterations))
    let instructionGoal = 20_000_000.0
    print(String(format: "  VM instructions/s ratio to goal (%.0fM/s) = %.2f ", instructionGoal / 1e6, vmRate / instructionGoal)
          + (vmRate >= instructionGoal ? "OK" : "BELOW GOAL"))
    _ = sink

    try lifecycle(credits: credits, contractPath: contractPath)
}

/// Applies `credits` letters of credit through their whole sight lifecycle (deploy, fund,
/// advise, carrier LOAD, complying presentation that pays), one stage per block, on a LevelDB
/// ledger with signature checks; then the same number of plain transfers on the same ledger.
func lifecycle(credits: Int, contractPath: String) throws {
    let code = try TradeDevChain.compileLetterOfCredit(contractPath).bytecode
    let root = NSTemporaryDirectory() + "hansa-bench-vm-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: root) }
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    let amount: Int64 = 50_000_00
    let chain = try TradeDevChain(store: try LevelDBLedgerStore(path: root + "/ledger"), importerDeposit: UInt64(amount) * UInt64(credits) * 2)
    var gas: UInt64 = 0
    func commit(_ txs: [Transaction]) throws {
        for r in try chain.commit(txs) {
            guard r.succeeded else { throw CLIError("lifecycle transaction failed: \(r.status)") }
            gas += r.gasUsed
        }
    }
    let day: Int64 = 86_400_000
    let start = Int64(chain.time)
    let a = { (k: PrivateKey) in ABIValue.address(k.publicKey.address) }
    let deploys = (0..<credits).map { _ in
        chain.deploy(code, [a(chain.importer), a(chain.exporter), a(chain.advisingBank), a(chain.advisingBank), a(chain.carrier),
                            .string("USD"), .int(amount), .int(1_000), .int(start + 60 * day), .int(start + 30 * day), .int(21), .int(0),
                            .string("CNSHA"), .string("NLRTM"), .int(3), .int(256)])
    }
    let contracts = deploys.map(\.1)
    try commit(deploys.map(\.0))
    try commit(contracts.map { chain.call(chain.importer, $0, "fund", value: UInt64(amount)) })
    try commit(contracts.map { chain.call(chain.advisingBank, $0, "advise") })
    let loaded = Int64(chain.time) + 60_000
    try commit(contracts.indices.map { i in
        chain.call(chain.carrier, contracts[i], "shipping_event", [.string("BL-\(i)"), .string("LOAD"), .string("ACT"), .string("CNSHA"),
                                                                   .string("BENCH VESSEL"), .int(loaded)])
    })
    try commit(contracts.indices.map { i in
        chain.call(chain.exporter, contracts[i], "present", [
            .bytes(SHA256.hash(utf8: "inv \(i)").bytes), .int(amount), .string("USD"), .int(1_000), .string("BL-\(i)"),
            .bytes(SHA256.hash(utf8: "bl \(i)").bytes), .int(loaded), .string("CNSHA"), .string("NLRTM"), .string("BENCH VESSEL"),
            .bytes([]), .int(0), .string("USD"), .int(loaded), .bytes([]), .bytes([])])
    })
    let paid = try chain.balance(chain.exporter)
    guard paid == UInt64(amount) * UInt64(credits) else { throw CLIError("the beneficiary received \(paid), expected \(Int64(credits) * amount)") }
    let lifecycleTxs = 5 * credits
    let lifecycleRate = Double(lifecycleTxs) / chain.applySeconds
    print(String(format: "  letter of credit: %d credits × 5 transactions (deploy, fund, advise, LOAD, present+pay)", credits))
    print(String(format: "    %10.0f transactions/s, %.0f gas per transaction on average, %.1f ms per credit",
                 lifecycleRate, Double(gas) / Double(lifecycleTxs), chain.applySeconds / Double(credits) * 1000))

    // Reference: the same number of plain transfers (importer → exporter) through the same ledger.
    let before = chain.applySeconds
    let transfers = (0..<lifecycleTxs).map { _ in
        chain.tx(chain.importer, .transfer, TransferPayload(to: chain.exporter.publicKey.address, currency: chain.dev.usd, amount: 1),
                 gas: GasSchedule.transfer)
    }
    for first in stride(from: 0, to: transfers.count, by: credits) { try commit(Array(transfers[first..<min(first + credits, transfers.count)])) }
    let transferRate = Double(lifecycleTxs) / (chain.applySeconds - before)
    print(String(format: "    %10.0f plain transfers/s on the same ledger, same block size", transferRate))
    let goal = 0.25
    let ratio = lifecycleRate / transferRate
    print(String(format: "  lifecycle/transfer ratio = %.2f (goal >= %.2f) ", ratio, goal) + (ratio >= goal ? "OK" : "BELOW GOAL"))
}
