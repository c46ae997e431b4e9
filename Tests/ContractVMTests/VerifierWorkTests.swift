import ChainTypes
import ContractVM
import Ledger
import Testing

/// Bounds on the work verification and compilation can be made to do (review findings).
@Suite("Verifier and compiler: bounded work")
struct VerifierWorkTests {
    @Test("functions may not share code, so verification is linear in the code's size")
    func sharedCodeRefused() {
        let code = Asm.code { $0.pushInt(0); $0.op(.ret) }
        let shared = program(code, functions: [fn("f"), fn("g")])
        #expect { try Verifier.verify(shared) } throws: { e in
            (e as? VerifyError)?.message == "functions f and g share the instruction at byte 0; each function must have its own code"
        }
        // The attack shape: a long straight run of code with 256 functions entering at 0. It is
        // refused after one walk of the code, not 256.
        let long = Asm.code { a in
            a.pushInt(0)
            for _ in 0..<10_000 { a.op(.dup); a.op(.pop) }
            a.op(.ret)
        }
        let many = program(long, functions: (0..<256).map { fn("f\($0)") })
        var work = 0
        #expect(throws: VerifyError.self) { try Verifier.verify(many, work: &work) }
        // Counted, not timed: one walk is about 2 units per instruction; 256 walks would be 256 times that.
        #expect(work > 20_000 && work <= Verifier.maxWorkPerByte * many.canonicalBytes.count,
                "verification must not walk the code once per function (\(work) units for \(many.canonicalBytes.count) bytes)")
    }

    @Test("a call charges one gas per local slot it sets up")
    func callChargesLocals() throws {
        let source = """
        fn wide(a: int) -> int { let b = a; let c = b; let d = c; return d; }
        fn narrow(a: int) -> int { return a; }
        pub fn f(w: bool) -> int { if w { return wide(1); } return narrow(1); }
        """
        let c = try compile(source)
        let wide = run(c, "f", [.bool(true)]), narrow = run(c, "f", [.bool(false)])
        #expect(wide.succeeded && narrow.succeeded)
        // wide has 4 locals and three more load/store pairs than narrow; narrow has 1 local.
        let extraInstructions: UInt64 = 3 * (VMGas.base(.load) + VMGas.base(.store))
        #expect(wide.gasUsed - narrow.gasUsed == 3 * VMGas.perLocal + extraInstructions)
    }

    @Test("the compiler reports a VM limit as a compile error instead of crashing", arguments: [
        ("pub fn f() -> int { return " + String(repeating: "1 + (", count: 70) + "1" + String(repeating: ")", count: 70) + "; }",
         "exceeds a limit of the VM: in function f, the stack grows past 64 values"),
        ("pub fn f() -> int { return " + String(repeating: "(", count: 300) + "1" + String(repeating: ")", count: 300) + "; }",
         "expressions and blocks nest at most 100 deep"),
        ("pub fn " + String(repeating: "n", count: 65) + "() {}", "a name is at most 64 characters"),
    ])
    func limitsAreCompileErrors(source: String, message: String) {
        let e = compileError(source)
        #expect(e?.message.contains(message) == true, "\(String(describing: e))")
    }

    @Test("statements after require(false, …) at the end of the last function compile and trap")
    func deadCodeAfterRequireFalse() throws {
        let c = try compile("pub fn f() -> int { return 1; }\npub fn g() { require(false, \"never\"); let y = 1; }")
        let o = run(c, "g")
        #expect(o.failure == "revert: never")
    }
}
