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
        // 5 M: the run schedules a call, which prepays its 1 M budget.
        let input: [ABIValue] = [.string("lot-17"), .int(25)]
        let first = MockHost()
        let reference = run(Self.busy, "add", input, gas: 5_000_000, host: first)
        #expect(reference.succeeded, "\(reference.failure ?? "")")
        for _ in 0..<20 {
            let h = MockHost()
            let o = run(Self.busy, "add", input, gas: 5_000_000, host: h)
            #expect(o == reference)
            #expect(h.snapshot == first.snapshot)
        }
        // A fresh engine (nothing cached) and a second run on the state the first left behind.
        let other = HansaVM()
        let a = MockHost(), b = MockHost()
        let oa = other.run(code: Self.busy.bytecode, entry: .call, input: ABI.encodeCall("add", input), gasLimit: 5_000_000, host: a)
        let ob = vm.run(code: Self.busy.bytecode, entry: .call, input: ABI.encodeCall("add", input), gasLimit: 5_000_000, host: b)
        #expect(oa == reference && ob == reference)
        let second = (other.run(code: Self.busy.bytecode, entry: .call, input: ABI.encodeCall("add", input), gasLimit: 5_000_000, host: a),
                      vm.run(code: Self.busy.bytecode, entry: .call, input: ABI.encodeCall("add", input), gasLimit: 5_000_000, host: b))
        #expect(second.0 == second.1)
        #expect(second.0.gasUsed > reference.gasUsed, "the second run reads and writes more storage")
        #expect(a.snapshot == b.snapshot)
        // A failing run is just as repeatable.
        let failing = (0..<5).map { _ in run(Self.busy, "add", [.string("x"), .int(1_000_000)], gas: 50_000) }
        #expect(Set(failing.map(\.gasUsed)) == [50_000])
        #expect(failing.allSatisfy { $0.failure == "out of gas" })
    }

    @Test func theBaseCostsAreTheDocumentedSchedule() {
        // docs/CONTRACTS.md, "Instructions" (calibrated by hansa bench gas, review finding 10).
        let documented: [Opcode: UInt64] = [
            .pushInt: 1, .pushConst: 1, .pop: 1, .dup: 1, .load: 1, .store: 2,
            .add: 2, .sub: 2, .mul: 3, .div: 3, .mod: 3, .neg: 2,
            .eq: 2, .ne: 2, .lt: 2, .le: 2, .gt: 2, .ge: 2, .not: 1,
            .concat: 8, .len: 2, .slice: 8, .intToBytes: 8, .bytesToInt: 2, .sha256: 30, .abiEncode: 8,
            .jump: 2, .jumpIfFalse: 2, .call: 10, .ret: 2, .trap: 2, .host: 0,
        ]
        #expect(documented.count == Opcode.allCases.count)
        for op in Opcode.allCases { #expect(Self.g(op) == documented[op], "\(op)") }
        let hosts: [HostFunction: UInt64] = [.caller: 4, .callerRole: 2, .now: 2, .height: 2, .this: 4, .roleOf: 100, .balance: 200,
                                             .pay: 2_000, .storageLoad: 1_100, .storageStore: 9_000, .storageDelete: 7_000, .emit: 450,
                                             .schedule: 20_000, .value: 2, .valueCurrency: 4]
        for h in HostFunction.allCases { #expect(VMGas.host(h) == hosts[h], "\(h)") }
        #expect(VMGas.chunkBytes == 512 && VMGas.perChunk == 1 && VMGas.sha256PerWord == 5)
        #expect(VMGas.storagePerByte == 2 && VMGas.eventPerWord == 16)
        #expect(VMGas.accountCold == 2_400 && VMGas.accountFirstPayment == 12_000)
        #expect(VMGas.codeLoadPerByte == 8 && VMGas.codeLoadPerConstant == 32)
        #expect(VMGas.warmSlotRead == 400 && VMGas.warmSlotWrite == 500)
        #expect(HansaVM.inputGas([]) == 20 && HansaVM.inputGas([UInt8](repeating: 0, count: 32)) == 21
            && HansaVM.inputGas([UInt8](repeating: 0, count: 33)) == 22)
    }

    /// Review finding 10: measured in the same run, deleting an existing slot did 6.9× the work
    /// of arithmetic per gas, deleting an absent one 4.3×, writing a new slot 3.4×. These are the
    /// calibrated relations (hansa bench gas, docs/BENCHMARKS.md) as floors, so that an edit of
    /// the schedule cannot quietly make storage cheap against arithmetic again.
    @Test func finding10_storageAndAccountsCostWhatTheyDoAgainstArithmetic() {
        let add = Self.g(.add)
        let store = VMGas.host(.storageStore), delete = VMGas.host(.storageDelete), load = VMGas.host(.storageLoad)
        // A write or delete rewrites a path of the state tree at the block's end: ~3 000 adds.
        #expect(store >= 3_000 * add)
        #expect(delete >= 2_000 * add)
        #expect(delete * 10 >= store * 7, "deleting an existing slot costs about what writing one does")
        #expect(VMGas.warmSlotRead * 2 <= load && VMGas.warmSlotWrite * 10 <= delete, "the first touch of a key costs most")
        #expect(load >= 200 * add, "a read goes through the overlay and the store")
        #expect(VMGas.host(.emit) >= 200 * add)
        #expect(VMGas.host(.schedule) >= store, "a scheduled call writes a state entry and an index entry")
        // An account first named in a run is read and decoded; first paid, its leaf is rewritten.
        #expect(VMGas.accountCold >= 10 * VMGas.host(.balance) && VMGas.accountCold >= 1_000 * add)
        #expect((VMGas.host(.pay) + VMGas.accountCold + VMGas.accountFirstPayment) * 2 >= 3 * store)
        // Instructions that make a new byte string pay for the allocation.
        #expect(Self.g(.intToBytes) >= 3 * add && Self.g(.concat) >= 3 * add && Self.g(.slice) >= 3 * add)
        // Finding 8: a byte of code costs several adds to load and verify, a constant more.
        #expect(VMGas.codeLoadPerByte >= 4 * add && VMGas.codeLoadPerConstant >= 4 * VMGas.codeLoadPerByte)
    }

    @Test("finding 10: a storage key costs more the first time a run reads or writes it")
    func finding10_firstUseOfASlot() throws {
        let c = try compile("""
            map m: int => int;
            pub fn read(k: int, times: int) -> int { let i = 0; let a = 0; while i < times { a = a + m[k]; i = i + 1; } return a; }
            pub fn write(k: int, times: int) { let i = 0; while i < times { m[k] = i + 1; i = i + 1; } }
            pub fn remove(k: int, times: int) { let i = 0; while i < times { delete m[k]; i = i + 1; } }
            """)
        func gas(_ f: String, _ times: Int64) -> UInt64 { run(c, f, [.int(7), .int(times)]).gasUsed }
        // The loop body's instructions, once more: everything but the storage call.
        let loads = gas("read", 2) - gas("read", 1), stores = gas("write", 2) - gas("write", 1)
        let deletes = gas("remove", 2) - gas("remove", 1)
        #expect(gas("read", 1) - gas("read", 0) - loads == VMGas.host(.storageLoad) - VMGas.warmSlotRead)
        #expect(gas("write", 1) - gas("write", 0) - stores == VMGas.host(.storageStore) - VMGas.warmSlotWrite)
        #expect(gas("read", 3) - gas("read", 2) == loads, "every later read is warm")
        // Deleting an absent key is a read that finds nothing; an existing one, a read and a write.
        #expect(gas("remove", 1) - gas("remove", 0) - deletes == VMGas.host(.storageLoad) - VMGas.warmSlotRead)
        let holding = MockHost()
        #expect(run(c, "write", [.int(7), .int(1)], host: holding).succeeded && holding.storage.count == 1)
        let removed = run(c, "remove", [.int(7), .int(2)], host: holding)
        #expect(removed.succeeded && holding.storage.isEmpty)
        #expect(removed.gasUsed - gas("remove", 2) == VMGas.host(.storageDelete), "the second delete finds the key gone: a warm read")
        // A run that wrote a key reads it warm; deleting a key the run wrote is a warm write.
        let h = MockHost()
        let p = try compile("map m: int => int; pub fn f() -> int { m[1] = 5; let a = m[1]; delete m[1]; return a; }")
        let o = run(p, "f", [], host: h)
        #expect(outputValues(o) == [.int(5)] && h.storage.isEmpty)
        // One cold write, then a warm read, and a delete's warm read and warm write.
        #expect(o.gasUsed < VMGas.codeLoad(p.bytecode) + VMGas.host(.storageStore) + 2 * VMGas.warmSlotRead + VMGas.warmSlotWrite + 200)
    }

    @Test("finding 10: an account costs more the first time a run names it, the same on every node")
    func finding10_firstUseOfAnAccount() throws {
        let c = try compile("""
            pub fn read(a: address) -> int { return balance(a, "USD") + role_of(a) + balance(a, "USD"); }
            pub fn give(a: address) { pay(a, "USD", 1); pay(a, "USD", 2); }
            """)
        let other = addr(0x55)
        func host() -> MockHost { let h = MockHost(); h.balances[other] = [:]; return h }
        let warm = run(c, "read", [.address(host().caller)], host: host()), cold = run(c, "read", [.address(other)], host: host())
        #expect(warm.succeeded && cold.succeeded)
        #expect(cold.gasUsed - warm.gasUsed == VMGas.accountCold, "once per run, not per call")
        let paidBack = run(c, "give", [.address(host().caller)], host: host()), paid = run(c, "give", [.address(other)], host: host())
        #expect(paidBack.succeeded && paid.succeeded)
        #expect(paid.gasUsed - paidBack.gasUsed == VMGas.accountCold + VMGas.accountFirstPayment)
    }

    @Test func aSimpleProgramCostsTheSumOfItsInstructions() {
        let input = ABI.encodeCall("f", [])
        let addProgram = program(Asm.code { $0.pushInt(2); $0.pushInt(3); $0.op(.add); $0.op(.ret) })
        let add = run(addProgram)
        #expect(outputValues(add) == [.int(5)])
        let load = VMGas.codeLoad(addProgram.canonicalBytes)
        #expect(add.gasUsed == load + HansaVM.inputGas(input) + 2 * Self.g(.pushInt) + Self.g(.add) + Self.g(.ret))
        #expect(add.gasUsed == 8 * 32 + 21 + 1 + 1 + 2 + 2, "32 bytes of code at 8 gas each, then the input and the instructions")

        // Copies cost per started 512 bytes, hashing per 32; storage per byte, events per 32 bytes.
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
        let c = VMGas.perChunk
        let expected = VMGas.codeLoad(p.canonicalBytes) + HansaVM.inputGas(input) + 1 * VMGas.perLocal
            + Self.g(.pushConst) + Self.g(.pushConst) + (Self.g(.concat) + 1 * c)
            + (Self.g(.sha256) + 2 * VMGas.sha256PerWord) + Self.g(.store)
            + Self.g(.pushConst) + Self.g(.load) + (VMGas.host(.storageStore) + 35 * VMGas.storagePerByte)
            + Self.g(.pushConst) + (VMGas.warmSlotRead + c + c)                // the run wrote the key: a warm read
            + Self.g(.len)
            + Self.g(.pushConst) + Self.g(.load) + (VMGas.host(.emit) + 2 * VMGas.eventPerWord)
            + Self.g(.ret)
        #expect(o.gasUsed == expected)
        #expect(o.gasUsed == 10_038 + 8 * 83 + 32 * 3, "the instructions' 10 038, and 83 bytes of code with 3 constants")
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
        #expect(perIteration == 14)
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
        #expect(b.gasUsed - a.gasUsed == 10 * 14)
    }
}
