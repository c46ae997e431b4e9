import ChainTypes
@testable import ContractVM
import Ledger
import Testing

/// Review finding 8: a call whose code is not in a node's cache of verified programs makes
/// that node decode and verify the whole code again. The cache's content differs between
/// nodes, so the price of that work must not depend on it: every run pays for loading and
/// verifying its code in proportion to the code's size, hit or miss.
@Suite("Gas: code loading (finding 8)")
struct CodeLoadGasTests {
    /// `pub fn f() -> int { return 1 }` with two unused constants, and with `paddingPairs` > 0 also an internal function
    /// of `2 × paddingPairs` one-byte instructions that `f` never calls.
    static func padded(_ paddingPairs: Int, constant: Int64 = 1) -> [UInt8] {
        var functions = [fn()]
        let code = Asm.code { a in
            a.pushInt(constant); a.op(.ret)
            guard paddingPairs > 0 else { return }
            functions.append(fn("g", .internal, entry: a.offset))
            a.pushInt(0)
            for _ in 0..<paddingPairs { a.op(.dup); a.op(.pop) }
            a.op(.ret)
        }
        // Two constants, so that both ways of pricing a program (from its bytes, from its
        // verified form) are compared on the per-constant part too.
        return program(code, constants: [[7], [8]], functions: functions).canonicalBytes
    }

    static func call(_ code: [UInt8], on engine: HansaVM = HansaVM(), gas: UInt64 = 10_000_000) -> ContractOutcome {
        engine.run(code: code, entry: .call, input: ABI.encodeCall("f", []), gasLimit: gas, host: MockHost())
    }

    @Test("finding 8: a call pays for loading and verifying its code, by the code's size")
    func finding8_aCallPaysForItsCodeBySize() throws {
        let small = Self.padded(0), large = Self.padded(30_000)
        let a = Self.call(small), b = Self.call(large)
        #expect(a.succeeded && b.succeeded)
        #expect(outputValues(a) == [.int(1)] && outputValues(b) == [.int(1)])
        // The same instructions run; only the code to load and verify differs (60 000 bytes).
        let extraBytes = UInt64(large.count - small.count)
        #expect(b.gasUsed >= a.gasUsed + extraBytes, "a 60 kB program must cost at least one gas per byte more to call")
        #expect(b.gasUsed - a.gasUsed == extraBytes * VMGas.codeLoadPerByte)
        // Constants cost on top of their bytes.
        let withConstants = program(Asm.code { $0.pushInt(1); $0.op(.ret) }, constants: [[1], [2], [3]]).canonicalBytes
        let plain = program(Asm.code { $0.pushInt(1); $0.op(.ret) }).canonicalBytes
        #expect(Self.call(withConstants).gasUsed - Self.call(plain).gasUsed
                == UInt64(withConstants.count - plain.count) * VMGas.codeLoadPerByte + 3 * VMGas.codeLoadPerConstant)
        #expect(a.gasUsed == VMGas.codeLoad(small) + HansaVM.inputGas(ABI.encodeCall("f", [])) + VMGas.base(.pushInt) + VMGas.base(.ret))
    }

    @Test("finding 8: the gas of a call is the same whatever this node's cache holds")
    func finding8_gasDoesNotDependOnTheCache() {
        let code = Self.padded(1_000)
        let engine = HansaVM()
        let cold = Self.call(code, on: engine)                          // a miss: decoded and verified
        let warm = Self.call(code, on: engine)                          // a hit
        // More other programs than the cache holds push it out again.
        for i in 0..<HansaVM.maxCachedPrograms { #expect(Self.call(Self.padded(0, constant: Int64(i) + 2), on: engine).succeeded) }
        let evicted = Self.call(code, on: engine)
        let fresh = Self.call(code)                                     // another node, nothing cached
        #expect(cold.succeeded)
        #expect(warm == cold && evicted == cold && fresh == cold)
        #expect(cold.gasUsed >= VMGas.codeLoad(code))
    }

    @Test("finding 8: a budget below the price of loading the code is not spent on verifying it")
    func finding8_budgetBelowTheLoadingPrice() {
        let code = Self.padded(1_000)
        let price = VMGas.codeLoad(code)
        let short = Self.call(code, gas: price - 1)
        #expect(!short.succeeded && short.failure == "out of gas" && short.gasUsed == price - 1)
        // Code that fails verification still pays for having been loaded and checked.
        var broken = code
        broken[broken.count - 1] = 0xff
        let refused = Self.call(broken)
        #expect(!refused.succeeded && refused.failure?.hasPrefix("code refused by the verifier") == true)
        #expect(refused.gasUsed == VMGas.codeLoad(broken))
    }

    @Test("finding 8: a pre-verified program is charged like its bytes")
    func finding8_preVerifiedProgramsPayTheSame() throws {
        let code = Self.padded(500)
        let program = try Verifier.verify(code)
        let direct = vm.run(program, entry: .call, input: ABI.encodeCall("f", []), gasLimit: 1_000_000, host: MockHost())
        #expect(direct == Self.call(code))
        let fromMemory = try Verifier.verify(try Program(canonicalBytes: code, root: "program"))
        #expect(vm.run(fromMemory, entry: .call, input: ABI.encodeCall("f", []), gasLimit: 1_000_000, host: MockHost()) == direct)
    }

    /// Code shaped to make the verifier work hardest per byte, and an ordinary contract.
    static let shapes: [(String, [UInt8])] = [
        ("one-byte instructions", padded(30_000)),
        ("branches", {
            var functions = [fn()]
            let code = Asm.code { a in
                a.pushInt(1); a.op(.ret)
                functions.append(fn("g", .internal, entry: a.offset))
                a.pushInt(0)
                for i in 0..<5_000 { a.op(.dup); a.jump(.jumpIfFalse, "l\(i)"); a.label("l\(i)") }
                a.op(.ret)
            }
            return program(code, functions: functions).canonicalBytes
        }()),
        ("1024 constants", program(Asm.code { $0.pushInt(1); $0.op(.ret) }, constants: (0..<1_024).map { [UInt8(truncatingIfNeeded: $0)] }).canonicalBytes),
        ("256 functions", {
            var functions: [FunctionInfo] = []
            let code = Asm.code { a in
                for i in 0..<256 { functions.append(fn(i == 0 ? "f" : "g\(i)", i == 0 ? .public : .internal, entry: a.offset)); a.pushInt(1); a.op(.ret) }
            }
            return program(code, functions: functions).canonicalBytes
        }()),
    ]

    @Test("finding 8: verification work is linear in the code's size, so a price per byte covers it", arguments: 0..<shapes.count)
    func finding8_verifierWorkIsBoundedByBytes(_ index: Int) throws {
        let (name, code) = Self.shapes[index]
        var work = 0
        _ = try Verifier.verify(try Program(canonicalBytes: code, root: "program"), work: &work)
        #expect(work > 0)
        #expect(work <= Verifier.maxWorkPerByte * code.count, "\(name): \(work) work units for \(code.count) bytes")
        #expect(Self.call(code).gasUsed >= VMGas.codeLoad(code), "\(name)")
    }
}
