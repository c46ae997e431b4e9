import ChainTypes
import ContractVM
import Ledger
import Testing

/// Every way a run can stop early, through `HansaVM.run` on a mock host.
@Suite("Traps")
struct TrapTests {
    /// Expects a failed run with exactly `failure` and some gas charged.
    static func expectTrap(_ o: ContractOutcome, _ failure: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!o.succeeded, sourceLocation: sourceLocation)
        #expect(o.failure == failure, sourceLocation: sourceLocation)
        #expect(o.output.isEmpty, sourceLocation: sourceLocation)
        #expect(o.gasUsed > 0, "no gas was charged", sourceLocation: sourceLocation)
    }

    static let arithmetic = try! Compiler.compile("""
        pub fn add(a: int, b: int) -> int { return a + b; }
        pub fn sub(a: int, b: int) -> int { return a - b; }
        pub fn mul(a: int, b: int) -> int { return a * b; }
        pub fn div(a: int, b: int) -> int { return a / b; }
        pub fn rem(a: int, b: int) -> int { return a % b; }
        pub fn neg(a: int) -> int { return -a; }
        """)

    // MARK: Gas

    @Test func outOfGasUsesTheWholeLimit() throws {
        let c = try compile("pub fn f() { while true { } }")
        let o = run(c, gas: 10_000)
        Self.expectTrap(o, "out of gas")
        #expect(o.gasUsed == 10_000)
        // Also when the limit does not cover reading the input.
        let early = run(c, gas: 5)
        Self.expectTrap(early, "out of gas")
        #expect(early.gasUsed == 5)
    }

    // MARK: Arithmetic

    @Test func integerOverflow() {
        let c = Self.arithmetic
        Self.expectTrap(run(c, "add", [.int(.max), .int(1)]), "integer overflow in add")
        Self.expectTrap(run(c, "add", [.int(.min), .int(-1)]), "integer overflow in add")
        Self.expectTrap(run(c, "sub", [.int(.min), .int(1)]), "integer overflow in sub")
        Self.expectTrap(run(c, "sub", [.int(0), .int(.min)]), "integer overflow in sub")
        Self.expectTrap(run(c, "mul", [.int(.max), .int(2)]), "integer overflow in mul")
        Self.expectTrap(run(c, "mul", [.int(.min), .int(-1)]), "integer overflow in mul")
        Self.expectTrap(run(c, "neg", [.int(.min)]), "integer overflow in neg")
        Self.expectTrap(run(c, "div", [.int(.min), .int(-1)]), "integer overflow in div")
        Self.expectTrap(run(c, "rem", [.int(.min), .int(-1)]), "integer overflow in mod")
        // The edges that do fit.
        #expect(outputValues(run(c, "add", [.int(.max - 1), .int(1)])) == [.int(.max)])
        #expect(outputValues(run(c, "neg", [.int(.max)])) == [.int(-.max)])
        #expect(outputValues(run(c, "div", [.int(.min), .int(1)])) == [.int(.min)])
        #expect(outputValues(run(c, "rem", [.int(-7), .int(3)])) == [.int(-1)])
    }

    @Test func aBalanceBeyondInt64OverflowsInTheHostCall() throws {
        let c = try compile("pub fn f() -> int { return balance(self(), \"USD\"); }")
        let h = MockHost()
        h.balances[h.contract] = [usd: UInt64(Int64.max) + 1]
        Self.expectTrap(run(c, host: h), "integer overflow in host")
        h.balances[h.contract] = [usd: UInt64(Int64.max)]
        #expect(outputValues(run(c, host: h)) == [.int(.max)])
    }

    @Test func divisionByZero() {
        Self.expectTrap(run(Self.arithmetic, "div", [.int(5), .int(0)]), "division by zero")
        Self.expectTrap(run(Self.arithmetic, "rem", [.int(5), .int(0)]), "division by zero")
        Self.expectTrap(run(Self.arithmetic, "div", [.int(.min), .int(0)]), "division by zero")
    }

    // MARK: Kinds of value (hand-assembled: the compiler's types prevent these)

    static let abc = [Array("abc".utf8)]

    @Test func typeMismatchesInInstructions() {
        // bytes where an integer is expected
        Self.expectTrap(run(program(Asm.code { $0.pushConst(0); $0.pushInt(1); $0.op(.add); $0.op(.ret) }, constants: Self.abc)),
                        "type mismatch: expected an integer, found bytes")
        Self.expectTrap(run(program(Asm.code { $0.pushConst(0); $0.op(.not); $0.op(.ret) }, constants: Self.abc)),
                        "type mismatch: expected an integer, found bytes")
        Self.expectTrap(run(program(Asm.code { $0.pushConst(0); $0.jump(.jumpIfFalse, "x"); $0.label("x"); $0.pushInt(0); $0.op(.ret) },
                                    constants: Self.abc)), "type mismatch: expected an integer, found bytes")
        // an integer where bytes are expected
        Self.expectTrap(run(program(Asm.code { $0.pushInt(1); $0.op(.len); $0.op(.ret) })), "type mismatch: expected bytes, found an integer")
        Self.expectTrap(run(program(Asm.code { $0.pushConst(0); $0.pushInt(1); $0.op(.concat); $0.op(.ret) }, constants: Self.abc)),
                        "type mismatch: expected bytes, found an integer")
        Self.expectTrap(run(program(Asm.code { $0.pushInt(1); $0.op(.sha256); $0.op(.ret) })), "type mismatch: expected bytes, found an integer")
        Self.expectTrap(run(program(Asm.code { $0.pushInt(1); $0.op(.trap) })), "type mismatch: expected bytes, found an integer")
        Self.expectTrap(run(program(Asm.code { $0.pushInt(1); $0.host(.storageLoad); $0.op(.ret) })), "type mismatch: expected bytes, found an integer")
        // eq/ne across kinds
        Self.expectTrap(run(program(Asm.code { $0.pushInt(1); $0.pushConst(0); $0.op(.eq); $0.op(.ret) }, constants: Self.abc)),
                        "type mismatch: eq compares an integer with bytes")
        Self.expectTrap(run(program(Asm.code { $0.pushConst(0); $0.pushInt(1); $0.op(.ne); $0.op(.ret) }, constants: Self.abc)),
                        "type mismatch: ne compares an integer with bytes")
        // abi_encode of the other kind, and of an address that is not 20 bytes
        Self.expectTrap(run(program(Asm.code { $0.pushInt(1); $0.abiEncode(.bytes); $0.op(.ret) })),
                        "type mismatch: abi_encode of bytes got the other kind of value")
        Self.expectTrap(run(program(Asm.code { $0.pushConst(0); $0.abiEncode(.bool); $0.op(.ret) }, constants: Self.abc)),
                        "type mismatch: abi_encode of bool got the other kind of value")
        Self.expectTrap(run(program(Asm.code { $0.pushConst(0); $0.abiEncode(.address); $0.op(.ret) }, constants: Self.abc)),
                        "type mismatch: an address must be 20 bytes, not 3")
    }

    @Test func typeMismatchesAtTheHostAndTheResult() throws {
        // A currency that is not a code, an address that is not 20 bytes.
        let c = try compile("""
            storage owner: address;
            pub fn bal(c: bytes) -> int { return balance(self(), c); }
            pub fn role() -> int { return role_of(owner); }
            pub fn get_owner() -> address { return owner; }
            """)
        Self.expectTrap(run(c, "bal", [.string("usd")]), "type mismatch: \"usd\" is not a currency code")
        Self.expectTrap(run(c, "role"), "type mismatch: an address must be 20 bytes, not 0")
        // An address never stored reads as empty bytes: returning it fails at the boundary.
        Self.expectTrap(run(c, "get_owner"), "type mismatch: the result must be a 20-byte address, not 0 bytes")
        // A declared result of the other kind (hand-assembled).
        Self.expectTrap(run(program(Asm.code { $0.pushConst(0); $0.op(.ret) }, constants: Self.abc)), "type mismatch: the result is not an int")
        Self.expectTrap(run(program(returnZero, functions: [fn(result: .bytes)])), "type mismatch: the result is not a bytes")
    }

    // MARK: Byte strings

    @Test func bytesTooLong() throws {
        let c = try compile("pub fn f() -> int { let b = \"x\"; while true { b = b + b; } return 0; }")
        Self.expectTrap(run(c), "a byte string of 8192 bytes exceeds the limit of 4096")
        // abi_encode of 4096 bytes would be 4099 bytes.
        let big = [UInt8](repeating: 1, count: 4_096)
        let encode = program(Asm.code { $0.load(0); $0.abiEncode(.bytes); $0.op(.ret) }, functions: [fn(params: [.bytes], result: .bytes)])
        Self.expectTrap(run(encode, "f", [.bytes(big)]), "a byte string of 4099 bytes exceeds the limit of 4096")
        #expect(outputValues(run(encode, "f", [.bytes([UInt8](repeating: 1, count: 4_093))])) == [.bytes(ABI.encode(.bytes([UInt8](repeating: 1, count: 4_093))))])
        // Exactly 4096 is fine.
        let ok = try compile("pub fn f(b: bytes) -> int { return len(b + b); }")
        #expect(outputValues(run(ok, "f", [.bytes([UInt8](repeating: 0, count: 2_048))])) == [.int(4_096)])
    }

    @Test func sliceOutOfRange() throws {
        let c = try compile("pub fn f(b: bytes, s: int, n: int) -> bytes { return slice(b, s, n); }")
        Self.expectTrap(run(c, "f", [.string("abc"), .int(2), .int(5)]), "slice of 5 bytes from 2 is outside a string of 3 bytes")
        Self.expectTrap(run(c, "f", [.string("abc"), .int(-1), .int(1)]), "slice of 1 bytes from -1 is outside a string of 3 bytes")
        Self.expectTrap(run(c, "f", [.string("abc"), .int(0), .int(-1)]), "slice of -1 bytes from 0 is outside a string of 3 bytes")
        Self.expectTrap(run(c, "f", [.string("abc"), .int(4), .int(0)]), "slice of 0 bytes from 4 is outside a string of 3 bytes")
        Self.expectTrap(run(c, "f", [.string("abc"), .int(1), .int(.max)]), "slice of 9223372036854775807 bytes from 1 is outside a string of 3 bytes")
        #expect(outputValues(run(c, "f", [.string("abc"), .int(1), .int(2)])) == [.string("bc")])
        #expect(outputValues(run(c, "f", [.string("abc"), .int(3), .int(0)])) == [.string("")])
    }

    // MARK: Calls and storage

    @Test func callDepthExceeded() throws {
        let c = try compile("""
            fn down(n: int) -> int { if n == 0 { return 0; } return down(n - 1) + 1; }
            pub fn f(n: int) -> int { return down(n); }
            """)
        // f's frame plus 63 calls of down fit; one more does not.
        #expect(outputValues(run(c, "f", [.int(62)])) == [.int(62)])
        Self.expectTrap(run(c, "f", [.int(63)]), "more than 64 nested calls")
        let forever = try compile("fn r(n: int) -> int { return r(n + 1); } pub fn f() -> int { return r(0); }")
        Self.expectTrap(run(forever), "more than 64 nested calls")
    }

    @Test func memoryExceeded() throws {
        // Each round creates a 4096-byte string; 16 MiB is 4096 rounds.
        let c = try compile("""
            pub fn f(b: bytes, n: int) -> int {
                let i = 0;
                while i < n { let s = slice(b, 0, 4096); i = i + 1; }
                return i;
            }
            """)
        let block = [UInt8](repeating: 9, count: 4_096)
        #expect(VMLimits.maxBytesCreatedPerRun == 4_096 * 4_096)
        #expect(outputValues(run(c, "f", [.bytes(block), .int(4_096)], gas: 5_000_000)) == [.int(4_096)])
        let o = run(c, "f", [.bytes(block), .int(4_097)], gas: 5_000_000)
        Self.expectTrap(o, "the run created more than 16777216 bytes of byte strings")
        #expect(o.gasUsed < 5_000_000)
    }

    @Test func storedValueNotAnInt() throws {
        let c = try compile("storage count: int; pub fn f() -> int { return count; }")
        let host = MockHost()
        host.storage[Array("count".utf8)] = [1, 2, 3]
        Self.expectTrap(run(c, host: host), "a stored value of 3 bytes is not an integer")
        host.storage[Array("count".utf8)] = []
        #expect(outputValues(run(c, host: host)) == [.int(0)])
        host.storage[Array("count".utf8)] = [0, 0, 0, 0, 0, 0, 1, 0]
        #expect(outputValues(run(c, host: host)) == [.int(256)])
    }

    @Test func revertWithTheMessage() throws {
        let c = try compile("pub fn f(n: int) { require(n > 10, \"n must be above 10\"); }")
        Self.expectTrap(run(c, "f", [.int(3)]), "revert: n must be above 10")
        #expect(run(c, "f", [.int(11)]).succeeded)
        // A long message is cut to 256 bytes.
        let long = String(repeating: "m", count: 300)
        let l = try compile("pub fn f() { require(false, \"\(long)\"); }")
        Self.expectTrap(run(l), "revert: " + String(repeating: "m", count: 256))
    }

    // MARK: The host refuses

    static let host = try! Compiler.compile("""
        event Note(n: int);
        pub fn pay_to(to: address, amount: int) { pay(to, "USD", amount); }
        pub fn note(n: int) { emit Note(n); }
        pub fn later(when: int) { schedule tick() at when; }
        sched fn tick() { }
        """)

    @Test func paymentRefused() {
        let h = MockHost()
        Self.expectTrap(run(Self.host, "pay_to", [.address(h.caller), .int(-5)], host: h), "payment refused: a negative amount (-5)")
        Self.expectTrap(run(Self.host, "pay_to", [.address(h.caller), .int(5_000)], host: h),
                        "payment refused: 5000 USD to \(h.caller): the contract's balance is 1000 or the recipient is not an account")
        h.refuseTransfers = true
        Self.expectTrap(run(Self.host, "pay_to", [.address(h.caller), .int(10)], host: h),
                        "payment refused: 10 USD to \(h.caller): the contract's balance is 1000 or the recipient is not an account")
        #expect(h.payments.isEmpty)
        // Zero pays nothing and asks nothing of the host; a payment the host accepts goes through.
        #expect(run(Self.host, "pay_to", [.address(h.caller), .int(0)], host: h).succeeded)
        h.refuseTransfers = false
        #expect(run(Self.host, "pay_to", [.address(h.caller), .int(10)], host: h).succeeded)
        #expect(h.payments == [MockHost.Payment(to: h.caller, currency: usd, amount: 10)])
    }

    @Test func scheduleRefused() {
        // A schedule prepays the call's budget (GasSchedule.scheduledCallGas).
        func run(_ code: CompiledContract, _ function: String, _ args: [ABIValue], host: MockHost) -> ContractOutcome {
            ContractVMTests.run(code, function, args, gas: 2 * GasSchedule.scheduledCallGas, host: host)
        }
        let h = MockHost()
        let refused = "the ledger refused to schedule the call (time not in the future, input too long or too many scheduled calls)"
        Self.expectTrap(run(Self.host, "later", [.int(0)], host: h), refused)
        Self.expectTrap(run(Self.host, "later", [.int(-1)], host: h), refused)
        Self.expectTrap(run(Self.host, "later", [.int(Int64(h.blockTimeMillis))], host: h), refused)
        h.refuseSchedules = true
        Self.expectTrap(run(Self.host, "later", [.int(Int64(h.blockTimeMillis) + 1)], host: h), refused)
        #expect(h.schedules.isEmpty)
        h.refuseSchedules = false
        #expect(run(Self.host, "later", [.int(Int64(h.blockTimeMillis) + 1)], host: h).succeeded)
        #expect(h.schedules == [MockHost.Scheduled(at: h.blockTimeMillis + 1, input: ABI.encodeCall("tick", []))])
    }

    @Test func eventRefused() {
        let h = MockHost()
        h.refuseEvents = true
        Self.expectTrap(run(Self.host, "note", [.int(1)], host: h), "the ledger refused the event (too many events or data too long)")
        #expect(h.events.isEmpty)
        h.refuseEvents = false
        #expect(run(Self.host, "note", [.int(1)], host: h).succeeded)
        #expect(h.events == [MockHost.Emitted(topics: [SHA256.hash(Array("Note".utf8))], data: ABI.encode(.int(1)))])
    }

    // MARK: Call input

    static let entries = try! Compiler.compile("""
        init(n: int) { }
        pub fn f(a: int, b: bool) -> int { return a; }
        pub fn g(who: address, data: bytes) { }
        sched fn s() { }
        fn internal_only() { }
        """)

    @Test func badInput() {
        let c = Self.entries.bytecode
        func expectBad(_ input: [UInt8], _ message: String, entry: ContractEntry = .call, sourceLocation: SourceLocation = #_sourceLocation) {
            let o = vm.run(code: c, entry: entry, input: input, gasLimit: 100_000, host: MockHost())
            Self.expectTrap(o, "bad call input: " + message, sourceLocation: sourceLocation)
            #expect(o.gasUsed == VMGas.codeLoad(c) + HansaVM.inputGas(input), "only loading the code and the input are charged",
                    sourceLocation: sourceLocation)
        }
        expectBad(ABI.encodeCall("nope", []), "the contract has no function nope")
        // The entry must match the function's kind.
        expectBad(ABI.encodeCall("f", [.int(1), .bool(true)]), "f is a public function; a scheduled call cannot start it", entry: .scheduled)
        expectBad(ABI.encodeCall("s", []), "s is a scheduled function; a transaction cannot start it", entry: .call)
        expectBad(ABI.encodeCall("init", [.int(1)]), "init is a constructor function; a transaction cannot start it", entry: .call)
        expectBad(ABI.encodeCall("f", [.int(1), .bool(true)]), "f is a public function; a deployment cannot start it", entry: .constructor)
        expectBad(ABI.encodeCall("internal_only", []), "internal_only is an internal function; a transaction cannot start it", entry: .call)
        // Arguments.
        expectBad(ABI.encodeCall("f", [.int(1)]), "f takes 2 arguments, not 1")
        expectBad(ABI.encodeCall("f", [.int(1), .bool(true), .int(3)]), "f takes 2 arguments, not 3")
        expectBad(ABI.encodeCall("f", [.string("1"), .bool(true)]), "argument 1 of f must be int, not bytes")
        expectBad(ABI.encodeCall("f", [.int(1), .int(1)]), "argument 2 of f must be bool, not int")
        expectBad(ABI.encodeCall("g", [.bytes(addr(1).bytes), .string("x")]), "argument 1 of g must be address, not bytes")
        // Malformed ABI bytes.
        let start = "call input must start with a function name of 1 to 64 bytes and an argument count"
        expectBad([], start)
        expectBad([0], start)
        expectBad([1, UInt8(ascii: "f")], start)
        expectBad([65] + [UInt8](repeating: UInt8(ascii: "a"), count: 66), start)
        expectBad([1, UInt8(ascii: "9"), 0], "the function name in the call input is not an identifier")
        expectBad([1, UInt8(ascii: "f"), 17], "17 arguments; at most 16 are allowed")
        expectBad(ABI.encodeCall("f", [.int(1), .bool(true)]) + [0], "1 bytes follow the last argument")
        expectBad([1, UInt8(ascii: "f"), 2, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 7], "argument 2 of f: a bool must be 0 or 1, not 7")
        expectBad([1, UInt8(ascii: "f"), 2, 1, 0, 0], "argument 1 of f: the input ends 6 bytes early at byte 6")
        expectBad([1, UInt8(ascii: "f"), 1, 9], "argument 1 of f: unknown value tag 0x9 at byte 3")
        expectBad([1, UInt8(ascii: "g"), 2, 4] + addr(1).bytes + [3, 0x10, 0x01], "argument 2 of g: 4097 bytes; at most 4096 are allowed")
        // A constructor with parameters still needs its input.
        expectBad([], start, entry: .constructor)
    }

    @Test func goodInputRunsAtEveryEntry() {
        let c = Self.entries.bytecode
        #expect(vm.run(code: c, entry: .constructor, input: ABI.encodeCall("init", [.int(1)]), gasLimit: 10_000, host: MockHost()).succeeded)
        #expect(vm.run(code: c, entry: .scheduled, input: ABI.encodeCall("s", []), gasLimit: 10_000, host: MockHost()).succeeded)
        let o = vm.run(code: c, entry: .call, input: ABI.encodeCall("f", [.int(7), .bool(false)]), gasLimit: 10_000, host: MockHost())
        #expect(outputValues(o) == [.int(7)])
        // Without a constructor, deployment with empty input succeeds and runs nothing.
        let none = try! Compiler.compile("pub fn f() { }").bytecode
        let d = vm.run(code: none, entry: .constructor, input: [], gasLimit: 10_000, host: MockHost())
        #expect(d.succeeded && d.gasUsed == VMGas.codeLoad(none) + HansaVM.inputGas([]))
    }

    @Test func codeRefusedByTheVerifierAtRun() {
        let o = vm.run(code: [0x0d, 0x01, 0x00], entry: .call, input: ABI.encodeCall("f", []), gasLimit: 10_000, host: MockHost())
        #expect(!o.succeeded)
        #expect(o.failure == "code refused by the verifier: malformed program: program.functions at byte 3: input ends 1 byte(s) too early")
        // Refused code runs nothing; loading and checking it is charged (finding 8).
        #expect(o.gasUsed == VMGas.codeLoad(bytes: 3, constants: 0))
        let stack = vm.run(code: program([Opcode.ret.rawValue]).canonicalBytes, entry: .call, input: ABI.encodeCall("f", []),
                           gasLimit: 10_000, host: MockHost())
        #expect(stack.failure == "code refused by the verifier: in function f, ret at byte 0 needs 1 values but the stack holds 0 (stack underflow)")
    }

    @Test func aTrapLeavesWhatTheHostRecordedForTheLedgerToUndo() throws {
        // The VM does not undo: it reports failure and the ledger drops the run's overlay.
        let c = try compile("storage n: int; pub fn f() { n = 5; require(false, \"stop\"); }")
        let h = MockHost()
        Self.expectTrap(run(c, host: h), "revert: stop")
        #expect(h.storage[Array("n".utf8)] == [0, 0, 0, 0, 0, 0, 0, 5])
    }

    // MARK: Through the real ledger

    @Test func aTrappedCallIsUndoneByTheLedger() throws {
        let chain = try TradeChain()
        let c = try compile("""
            storage n: int;
            event Set(n: int);
            init() { n = 1; }
            pub fn set(v: int) { n = v; emit Set(v); require(v < 100, "too big"); }
            pub fn check(v: int) { require(n == v, "n differs"); }
            """)
        let (contract, deployed) = try chain.deploy(chain.banks[0], c.bytecode, [])
        #expect(deployed.succeeded, "\(deployed.status)")
        let ok = try chain.call(chain.importer, contract, "set", [.int(5)])
        #expect(ok.succeeded, "\(ok.status)")
        #expect(ok.events.map(\.data) == [ABI.encode(.int(5))])

        let before = try chain.balance(chain.importer)
        let failed = try chain.call(chain.importer, contract, "set", [.int(500)], value: 1_000)
        #expect(!failed.succeeded)
        #expect(failed.failureMessage == "contract: revert: too big")
        #expect(failed.status == .failure(code: "contract_error", message: "contract: revert: too big"))
        #expect(failed.events.isEmpty)
        #expect(failed.gasUsed > GasSchedule.callBase)
        // The storage write, the event and the value sent with the call are all undone.
        #expect(try chain.balance(chain.importer) == before)
        #expect(try chain.balance(contract) == 0)
        #expect(try chain.call(chain.importer, contract, "check", [.int(5)]).succeeded)
        #expect(try chain.call(chain.importer, contract, "check", [.int(500)]).failureMessage == "contract: revert: n differs")
    }
}
