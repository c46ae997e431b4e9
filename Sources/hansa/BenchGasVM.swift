import ChainTypes
import ContractVM
import Foundation
import Ledger

/// An instruction class timed on an in-memory host: `body` runs once per loop iteration; the
/// same loop without it is the baseline, so the difference is the body alone.
struct VMGasCase {
    var name: String
    var body: String
    var iterations: Int = 20_000
}

let vmGasCases: [VMGasCase] = [
    VMGasCase(name: "locals: load, store (a = b)", body: "a = b;"),
    VMGasCase(name: "add, sub (a = a + b - b)", body: "a = a + b - b;"),
    VMGasCase(name: "mul, div, mod (a = b * c / c % 7)", body: "a = b * c / c % 7;"),
    VMGasCase(name: "lt, not (t = !(a < b))", body: "t = !(a < b);"),
    VMGasCase(name: "jump_if_false taken (if t { … })", body: "if t { a = b; }"),
    VMGasCase(name: "call, ret, 1 local (a = id(a))", body: "a = id(a);"),
    VMGasCase(name: "call, ret, 200 locals (a = wide(a))", body: "a = wide(a);"),
    VMGasCase(name: "int_to_bytes (s = to_bytes(a))", body: "s = to_bytes(a);"),
    VMGasCase(name: "len (a = len(x))", body: "a = len(x);"),
    VMGasCase(name: "push_const 4 KiB (s = FULL)", body: "s = FULL;"),
    VMGasCase(name: "concat 32 + 32 B", body: "s = x + y;"),
    VMGasCase(name: "concat 2 + 2 KiB", body: "s = big + big2;", iterations: 2_000),
    VMGasCase(name: "slice 4 KiB", body: "s = slice(full, 0, 4096);", iterations: 2_000),
    VMGasCase(name: "slice 8 B", body: "s = slice(x, 8, 8);"),
    VMGasCase(name: "eq of two 4 KiB strings", body: "t = full == full2;", iterations: 2_000),
    VMGasCase(name: "sha256 of 32 B", body: "s = sha256(x);"),
    VMGasCase(name: "sha256 of 4 KiB", body: "s = sha256(full);", iterations: 2_000),
    VMGasCase(name: "host caller (s = caller())", body: "w = caller();"),
    VMGasCase(name: "host now (a = now())", body: "a = now();"),
    VMGasCase(name: "host self (s = self())", body: "w = self();"),
]

/// The program of one case: `base(n)` runs the loop, `op(n)` the loop with the body.
func vmGasSource(_ body: String) -> String {
    let k32 = String(repeating: "a", count: 32), k2k = String(repeating: "b", count: 2_048)
    let k4k = String(repeating: "c", count: 4_096)
    let wideLocals = (0..<199).map { "let l\($0) = 0;" }.joined(separator: " ")
    let prelude = """
        let a = 12345; let b = 678; let c = 3; let t = false; let s = ""; let w = self();
        let x = "\(k32)"; let y = "\(k32)"; let big = "\(k2k)"; let big2 = big + "";
        let full = FULL; let full2 = slice(FULL, 0, 4096);
        """
    return """
    const FULL = "\(k4k)";
    fn id(v: int) -> int { return v; }
    fn wide(v: int) -> int { if v < 0 { \(wideLocals) } return v; }
    pub fn base(n: int) -> int { \(prelude) let i = 0; while i < n { i = i + 1; } return a + len(s); }
    pub fn op(n: int) -> int { \(prelude) let i = 0; while i < n { \(body) i = i + 1; } return a + len(s); }
    """
}

/// Instruction classes and cheap host reads, each as a median of `trials` ratios.
func vmRows(_ reference: ArithmeticReference, trials: Int) throws -> [GasRow] {
    var rows: [GasRow] = []
    for c in vmGasCases {
        let program = try Verifier.verify(try Compiler.compile(vmGasSource(c.body), file: "gas.hc").bytecode)
        let vm = HansaVM()
        /// ns of one run of `f`, and its gas.
        func timed(_ f: String) -> (ns: Double, gas: UInt64) {
            let input = ABI.encodeCall(f, [.int(Int64(c.iterations))])
            var gas: UInt64 = 0
            let ns = nanos {
                let o = vm.run(program, entry: .call, input: input, gasLimit: 50_000_000, host: MemoryContractHost())
                precondition(o.succeeded, "\(c.name): \(o.failure ?? "")")
                gas = o.gasUsed
            }
            return (ns, gas)
        }
        var ratios: [Double] = [], perOp: [Double] = []
        var gasPerOp = 0.0
        for _ in 0..<trials {
            // Short runs of the three, interleaved, each its fastest: other work on the machine
            // only ever adds time, and it comes and goes.
            var base = (ns: Double.infinity, gas: UInt64(0)), op = base, ref = Double.infinity
            for _ in 0..<10 {
                let b = timed("base"), o = timed("op")
                if b.ns < base.ns { base = b }
                if o.ns < op.ns { op = o }
                ref = min(ref, reference.measureOnce())
            }
            let dGas = Double(op.gas - base.gas), dNs = op.ns - base.ns
            gasPerOp = dGas / Double(c.iterations)
            perOp.append(dNs / Double(c.iterations))
            ratios.append(dNs / dGas / ref)
        }
        rows.append(GasRow(name: c.name, gasPerOp: gasPerOp, nsPerOp: median(perOp), ratio: median(ratios)))
    }
    return rows
}
