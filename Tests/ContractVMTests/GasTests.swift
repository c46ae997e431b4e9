import ChainTypes
@testable import ContractVM
import Ledger
import Testing

/// Gas is part of consensus: every node must charge the same for the same run.
@Suite("Gas")
struct GasTests {
    static func g(_ op: Opcode) -> UInt64 { VMGas.base[Int(op.rawValue)] }

    /// A contract touching most instructions and host functions.
    static let busy = try! Compiler.compile("""
        storage total: int;
        map seen: bytes => int;
        event Added(key: bytes, total: int, digest: bytes);
        fn square(x: int) -> int { return x * x; }
        pub fn add(key: bytes, n: int) -> int {
            let i = 0;
            let acc = 0;
            while i < n { acc = acc + square(i) % 7; i = i + 1; }
            total = total + acc;
            seen[key] = seen[key] + 1;
            let digest = sha256(key + to_bytes(total));
            emit Added(key, total, slice(digest, 0, 8));
            if balance(self(), "USD") > 0 && caller_role() == 3 { schedule tick() at now() + 1000; }
            return total;
        }
        sched fn tick() { }
        """)

    @Test func gasAndOutputAreTheSameOnEveryRun() {
        let input: [ABIValue] = [.string("lot-17"), .int(25)]
        let first = MockHost()
        let reference = run(Self.busy, "add", input, host: first)
        #expect(reference.succeeded, "\(reference.failure ?? "")")
        for _ in 0..<20 {
            let h = MockHost()
            let o = run(Self.busy, "add", input, host: h)
            #expect(o == reference)
            #expect(h.snapshot == first.snapshot)
        }
        // A fresh engine (nothing cached) and a second run on the state the first left behind.
        let other = HansaVM()
        let a = MockHost(), b = MockHost()
        let oa = other.run(code: Self.busy.bytecode, entry: .call, input: ABI.encodeCall("add", input), gasLimit: 1_000_000, host: a)
        let ob = vm.run(code: Self.busy.bytecode, entry: .call, input: ABI.encodeCall("add", input), gasLimit: 1_000_000, host: b)
        #expect(oa == reference && ob == reference)
        let second = (other.run(code: Self.busy.bytecode, entry: .call, input: ABI.encodeCall("add", input), gasLimit: 1_000_000, host: a),
                      vm.run(code: Self.busy.bytecode, entry: .call, input: ABI.encodeCall("add", input), gasLimit: 1_000_000, host: b))
        #expect(second.0 == second.1)
        #expect(second.0.gasUsed > reference.gasUsed, "the second run reads and writes more storage")
        #expect(a.snapshot == b.snapshot)
        // A failing run is just as repeatable.
        let failing = (0..<5).map { _ in run(Self.busy, "add", [.string("x"), .int(1_000_000)], gas: 50_000) }
        #expect(Set(failing.map(\.gasUsed)) == [50_000])
        #expect(failing.allSatisfy { $0.failure == "out of gas" })
    }

    @Test func theBaseCostsAreTheDocumentedSchedule() {
        // docs/CONTRACTS.md, "Instructions".
        let documented: [Opcode: UInt64] = [
            .pushInt: 1, .pushConst: 1, .pop: 1, .dup: 1, .load: 1, .store: 1,
            .add: 2, .sub: 2, .mul: 3, .div: 3, .mod: 3, .neg: 2,
            .eq: 2, .ne: 2, .lt: 2, .le: 2, .gt: 2, .ge: 2, .not: 1,
            .concat: 3, .len: 2, .slice: 3, .intToBytes: 2, .bytesToInt: 2, .sha256: 30, .abiEncode: 3,
            .jump: 2, .jumpIfFalse: 2, .call: 10, .ret: 2, .trap: 2, .host: 0,
        ]
        #expect(documented.count == Opcode.allCases.count)
        for op in Opcode.allCases { #expect(Self.g(op) == documented[op], "\(op)") }
        let hosts: [HostFunction: UInt64] = [.caller: 2, .callerRole: 2, .now: 2, .height: 2, .this: 2, .roleOf: 100, .balance: 200,
                                             .pay: 2_000, .storageLoad: 200, .storageStore: 1_000, .storageDelete: 500, .emit: 400, .schedule: 5_000,
                                             .value: 2, .valueCurrency: 2]
        for h in HostFunction.allCases { #expect(VMGas.host(h) == hosts[h], "\(h)") }
        #expect(VMGas.perWord == 1 && VMGas.sha256PerWord == 6 && VMGas.perStoredByte == 10)
        #expect(HansaVM.inputGas([]) == 20 && HansaVM.inputGas([UInt8](repeating: 0, count: 32)) == 21
            && HansaVM.inputGas([UInt8](repeating: 0, count: 33)) == 22)
    }

    @Test func aSimpleProgramCostsTheSumOfItsInstructions() {
        let input = ABI.encodeCall("f", [])
        let addProgram = program(Asm.code { $0.pushInt(2); $0.pushInt(3); $0.op(.add); $0.op(.ret) })
        let add = run(addProgram)
        #expect(outputValues(add) == [.int(5)])
        let load = VMGas.codeLoad(bytes: addProgram.canonicalBytes.count)
        #expect(add.gasUsed == load + HansaVM.inputGas(input) + 2 * Self.g(.pushInt) + Self.g(.add) + Self.g(.ret))
        #expect(add.gasUsed == 8 * 32 + 21 + 1 + 1 + 2 + 2, "32 bytes of code at 8 gas each, then the input and the instructions")

        // Bytes cost per started 32-byte word; storage and events per byte.
        let key = Array("key".utf8), long = [UInt8](repeating: 7, count: 33), name = Array("E".utf8)
        let p = program(Asm.code {
            $0.pushConst(0); $0.pushConst(1); $0.op(.concat)                  // "key" ‖ 33 bytes = 36 bytes
            $0.op(.sha256)                                                    // → 32 bytes
            $0.store(0)
            $0.pushConst(0); $0.load(0); $0.host(.storageStore)               // key 3 bytes, value 32
            $0.pushConst(0); $0.host(.storageLoad)                            // reads the 32 bytes back
            $0.op(.len)
            $0.pushConst(2); $0.load(0); $0.host(.emit)                       // name 1 byte, data 32
            $0.op(.ret)
        }, constants: [key, long, name], functions: [fn(locals: 1)])
        let h = MockHost()
        let o = run(p, host: h)
        #expect(outputValues(o) == [.int(32)])
        let w = VMGas.perWord, b = VMGas.perStoredByte
        let expected = VMGas.codeLoad(bytes: p.canonicalBytes.count) + HansaVM.inputGas(input) + 1 * VMGas.perLocal
            + (Self.g(.pushConst) + 1 * w) + (Self.g(.pushConst) + 2 * w) + (Self.g(.concat) + 2 * w)
            + (Self.g(.sha256) + 2 * VMGas.sha256PerWord) + Self.g(.store)
            + (Self.g(.pushConst) + w) + Self.g(.load) + (VMGas.host(.storageStore) + 35 * b)
            + (Self.g(.pushConst) + w) + (VMGas.host(.storageLoad) + w + w)
            + Self.g(.len)
            + (Self.g(.pushConst) + w) + Self.g(.load) + (VMGas.host(.emit) + 33 * b)
            + Self.g(.ret)
        #expect(o.gasUsed == expected)
        #expect(o.gasUsed == 2_369 + 8 * 83, "the instructions' 2 369 and 83 bytes of code at 8 gas each")
        #expect(h.events.count == 1 && h.storage[key]?.count == 32)
    }

    @Test func aLoopCostsTheSameForEveryIteration() throws {
        let c = try compile("pub fn f(n: int) -> int { let i = 0; while i < n { i = i + 1; } return i; }")
        func gas(_ n: Int64) -> (gas: UInt64, steps: UInt64) {
            let program = try! Verifier.verify(c.bytecode)
            let r = vm.runCounting(program, entry: .call, input: ABI.encodeCall("f", [.int(n)]), gasLimit: 10_000_000, host: MockHost())
            #expect(outputValues(r.outcome) == [.int(max(n, 0))])
            return (r.outcome.gasUsed, r.instructions)
        }
        let zero = gas(0)
        let perIteration = gas(1).gas - zero.gas
        // load i, load n, lt, jump_if_false, load i, push_int 1, add, store i, jump
        let body: [Opcode] = [.load, .load, .lt, .jumpIfFalse, .load, .pushInt, .add, .store, .jump]
        #expect(perIteration == body.reduce(0) { $0 + Self.g($1) })
        #expect(perIteration == 13)
        for n: Int64 in [2, 10, 100, 1_000, 10_000] {
            let r = gas(n)
            #expect(r.gas == zero.gas + UInt64(n) * perIteration, "n = \(n)")
            #expect(r.steps == zero.steps + UInt64(n) * UInt64(body.count), "n = \(n)")
        }
        #expect(gas(-5).gas == zero.gas)
    }

    static let boundaryPrograms: [(String, String, [ABIValue])] = [
        ("pub fn f(n: int) -> int { let i = 0; while i < n { i = i + 1; } return i; }", "f", [.int(10)]),
        // Ends on a per-byte charge: the host call's own cost fits, the bytes do not.
        ("storage s: bytes; pub fn f(b: bytes) { s = b; }", "f", [.bytes([UInt8](repeating: 1, count: 100))]),
        ("pub fn f(b: bytes) -> bytes { return sha256(b + b); }", "f", [.bytes([UInt8](repeating: 2, count: 1_000))]),
        ("event E(b: bytes); pub fn f(b: bytes) { emit E(b); }", "f", [.string("hello")]),
        ("fn g(x: int) -> int { return x + 1; } pub fn f() -> int { return g(g(1)); }", "f", []),
    ]

    @Test(arguments: 0..<boundaryPrograms.count)
    func outOfGasExactlyAtTheBoundary(_ index: Int) throws {
        let (source, function, args) = Self.boundaryPrograms[index]
        let c = try compile(source)
        let full = run(c, function, args, gas: 10_000_000)
        #expect(full.succeeded)
        let needed = full.gasUsed
        let exact = run(c, function, args, gas: needed)
        #expect(exact == full)
        let short = run(c, function, args, gas: needed - 1)
        #expect(!short.succeeded && short.failure == "out of gas")
        #expect(short.gasUsed == needed - 1)
        #expect(short.output.isEmpty)
    }

    @Test func aTrapChargesTheGasUsedUpToIt() throws {
        let c = try compile("pub fn f(n: int) -> int { let i = 0; while i < n { i = i + 1; } require(false, \"stop\"); }")
        let a = run(c, "f", [.int(10)]), b = run(c, "f", [.int(20)])
        #expect(a.failure == "revert: stop" && b.failure == "revert: stop")
        #expect(b.gasUsed - a.gasUsed == 10 * 13)
    }
}
