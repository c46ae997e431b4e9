import ChainTypes
import ContractVM
import Foundation
import Ledger

/// One row of the calibration table: the time one unit of gas buys for an operation, next to
/// the same for plain arithmetic measured in the same run.
struct GasRow {
    var name: String
    /// Gas one operation is charged.
    var gasPerOp: Double
    /// Median over the trials of nanoseconds per operation.
    var nsPerOp: Double
    /// (ns per gas of the operation) / (ns per gas of plain arithmetic), median over the trials:
    /// above 1 the operation is cheaper in gas than its time says.
    var ratio: Double
    /// What a node may have cached (verified programs, recently read slots): the price must
    /// not depend on a node's cache, so it covers a miss; only a ratio above 2 fails, and a
    /// hit costs less than it pays. Code loading is also priced by size for the costliest
    /// shape per byte.
    var pricedForAMiss = false
}

/// `hansa bench gas`: the gas schedule's calibration. Every instruction class, every host call
/// and the loading of code are timed per unit of gas and divided by the time per gas of plain
/// arithmetic (the `spin` loop) measured in the same run; the worst ratio, either way, must be
/// within 2. Instructions run on an in-memory host; host calls run in blocks through the real
/// ledger (overlay, Merkle tree, store), measured as the difference to a block of the same
/// calls that only run the loop around the operation.
func gasSuite(trials: Int, store: String, contractPath: String) throws {
    print("gas calibration (one thread, \(trials) trials, median; ratio = ns per gas / ns per gas of arithmetic)")
    let reference = try ArithmeticReference()
    var rows = try vmRows(reference, trials: trials)
    rows += try ledgerRows(reference, trials: trials, store: store, contractPath: contractPath)
    printGasTable(rows, reference: reference)
}

func printGasTable(_ rows: [GasRow], reference: ArithmeticReference) {
    print(String(format: "  reference: arithmetic (spin loop) %.2f ns per gas", reference.nsPerGas))
    let header = "operation".padding(toLength: 56, withPad: " ", startingAt: 0)
    print("  \(header)   gas/op      ns/op   ratio")
    for r in rows {
        let name = r.name.padding(toLength: 56, withPad: " ", startingAt: 0)
        let flag = r.ratio > 2 ? "  UNDERPRICED" : r.ratio < 0.5 && !r.pricedForAMiss ? "  overpriced" : ""
        print(String(format: "  %@ %8.0f %10.1f %7.2f", name, r.gasPerOp, r.nsPerOp, r.ratio) + flag)
    }
    let twoSided = rows.filter { !$0.pricedForAMiss }, oneSided = rows.filter(\.pricedForAMiss)
    guard let high = twoSided.max(by: { $0.ratio < $1.ratio }), let low = twoSided.min(by: { $0.ratio < $1.ratio }) else { return }
    let worst = max(high.ratio, 1 / low.ratio)
    print("  instructions and host calls:")
    print(String(format: "    most underpriced: %@ %.2f; most overpriced: %@ %.2f (%.2f× too dear)", high.name, high.ratio, low.name, low.ratio, 1 / low.ratio))
    print(String(format: "    worst ratio = %.2f (goal <= 2.00, either way) ", worst) + (worst <= 2 ? "OK" : "OUTSIDE 2×"))
    if let miss = oneSided.max(by: { $0.ratio < $1.ratio }), let hit = oneSided.min(by: { $0.ratio < $1.ratio }) {
        print("  priced for a cache miss (code loading; slots the node has cached) — only underpricing counts:")
        print(String(format: "    most underpriced: %@ %.2f (goal <= 2.00) ", miss.name, miss.ratio) + (miss.ratio <= 2 ? "OK" : "UNDERPRICED"))
        print(String(format: "    a hit pays up to %.2f× its time (%@)", 1 / hit.ratio, hit.name))
    }
    let overall = max(worst, oneSided.map(\.ratio).max() ?? 0)
    print(String(format: "  WORST RATIO = %.2f ", overall) + (overall <= 2 ? "— within 2×" : "— NOT within 2×"))
}

/// Nanoseconds `body` takes.
func nanos(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Plain arithmetic: the `spin` loop of `hansa bench vm` (integer arithmetic, locals and
/// branches), on an in-memory host.
struct ArithmeticReference {
    let vm = HansaVM()
    let program: VerifiedProgram
    let input = ABI.encodeCall("spin", [.int(20_000)])

    init() throws {
        let source = """
        pub fn spin(n: int) -> int {
            let i = 0;
            let acc = 0;
            while i < n { acc = acc + i * 3 % 7; i = i + 1; }
            return acc;
        }
        """
        program = try Verifier.verify(try Compiler.compile(source, file: "spin.hc").bytecode)
        nsPerGas = 0
        var samples: [Double] = []
        for _ in 0..<7 { samples.append(measure()) }
        nsPerGas = median(samples)
    }

    private(set) var nsPerGas: Double

    /// One timing of the loop, ns per gas: the fastest of 3 (other work on the machine only
    /// ever adds time).
    func measure() -> Double { (0..<3).map { _ in measureOnce() }.min()! }

    /// One run of the loop (~3 ms), ns per gas.
    func measureOnce() -> Double {
        var gas: UInt64 = 0
        let t = nanos {
            let o = vm.run(program, entry: .call, input: input, gasLimit: 50_000_000, host: MemoryContractHost())
            precondition(o.succeeded)
            gas = o.gasUsed
        }
        return t / Double(gas)
    }
}
