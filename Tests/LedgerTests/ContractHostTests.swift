import ChainTypes
import Ledger
import Testing

/// A stand-in engine that interprets a call's input as host commands, to check the host
/// interface the VM will use: storage, escrow payouts, events, scheduling, traps and gas.
struct ScriptEngine: ContractEngine {
    func verify(code: [UInt8]) -> String? { code == [0xde, 0xad] ? "bad opcode 0xde at 0" : nil }

    func run(code: [UInt8], entry: ContractEntry, input: [UInt8], gasLimit: UInt64, host: any ContractHost) -> ContractOutcome {
        var gas: UInt64 = 0
        var i = 0
        while i < input.count {
            gas += 100
            guard gas <= gasLimit else { return ContractOutcome(succeeded: false, failure: "out of gas", gasUsed: gasLimit) }
            switch input[i] {
            case 1: host.store([input[i + 1]], [input[i + 2]]); i += 3            // store slot := value
            case 2:                                                                    // pay amount to the caller
                guard host.transfer(to: host.caller, try! CurrencyCode("USD"), UInt64(input[i + 1])) else {
                    return ContractOutcome(succeeded: false, failure: "payout refused", gasUsed: gas)
                }
                i += 2
            case 3: return ContractOutcome(succeeded: false, failure: "trap: explicit", gasUsed: gas)
            case 4: _ = host.emit(topics: [Event.topic("Poked")], data: [input[i + 1]]); i += 2
            case 5: _ = host.scheduleCall(atMillis: host.blockTimeMillis + 1_000, input: [9]); i += 1
            case 6:                                      // schedule `count` × input at +secs s; slot 0xfe := how many were accepted
                let secs = UInt64(input[i + 1]), count = Int(input[i + 2]), length = Int(input[i + 3]) << 8 | Int(input[i + 4])
                let call = Array(input[i + 5 ..< i + 5 + length])
                var accepted: UInt8 = 0
                for _ in 0..<count where host.scheduleCall(atMillis: host.blockTimeMillis + secs * 1_000, input: call) { accepted += 1 }
                host.store([0xfe], [accepted])
                i += 5 + length
            case 7: host.store([0xff], (host.load([0xff]) ?? []) + [input[i + 1]]); i += 2   // append a tag to the log in slot 0xff
            case 8:                                      // slot 0xfd := 1 in a scheduled run with the contract as its own caller
                host.store([0xfd], [entry == .scheduled && host.caller == host.contract ? 1 : 0]); i += 1
            case 9:                                      // store `count` (u16) slots of 4 KiB: keys 0x09 ‖ u16 index
                let count = Int(input[i + 1]) << 8 | Int(input[i + 2])
                for k in 0..<count { host.store([9, UInt8(k >> 8), UInt8(k & 0xff)], [UInt8](repeating: 0x5a, count: 4096)) }
                i += 3
            default: return ContractOutcome(succeeded: false, failure: "unknown command", gasUsed: gas)
            }
        }
        return ContractOutcome(succeeded: true, gasUsed: gas)
    }
}

@Suite("Ledger: contract host interface")
struct ContractHostTests {
    func deployed(_ f: Fixture) throws -> Address {
        let bank = f.bank(0)
        let nonce = try f.nonce(bank)
        let receipts = try f.commit([try f.tx(bank, .deployContract, DeployPayload(code: [0x01], constructorInput: [1, 7, 7]), gas: 200_000)])
        #expect(receipts[0].succeeded, "\(receipts[0].status)")
        return Executor.contractAddress(deployer: f.address(bank), nonce: nonce)
    }

    @Test("deploy runs the constructor; the verifier can refuse code")
    func deploy() throws {
        let f = try Fixture(engine: ScriptEngine())
        let contract = try deployed(f)
        #expect(try f.ledger.account(contract)?.codeHash == SHA256.hash([0x01]))
        let refused = try f.commit([try f.tx(f.bank(0), .deployContract, DeployPayload(code: [0xde, 0xad], constructorInput: []), gas: 200_000)])
        guard case .failure(let code, let message) = refused[0].status else { Issue.record("accepted bad code"); return }
        #expect(code == "contract_error" && message.contains("bad opcode"))
    }

    @Test("a call escrows its value, pays out, emits events; a trap reverts all of it but charges gas")
    func callEscrowAndRevert() throws {
        let f = try Fixture(engine: ScriptEngine())
        let contract = try deployed(f)
        let user = f.user(0)
        let start = try f.balance(f.address(user))
        // Escrow 100, get 30 back, emit an event.
        let ok = try f.commit([try f.tx(user, .callContract, CallPayload(contract: contract, input: [2, 30, 4, 1], value: Amount(100, f.usd)), gas: 100_000)])
        #expect(ok[0].succeeded)
        #expect(try f.balance(f.address(user)) == start - 70)
        #expect(try f.balance(contract) == 70)
        #expect(ok[0].events.contains { $0.topics.first == Event.topic("Poked") && $0.emitter == contract })
        // Store, then trap: the value moved in, the store and the payout are all undone.
        let trap = try f.commit([try f.tx(user, .callContract, CallPayload(contract: contract, input: [1, 2, 3, 2, 10, 3], value: Amount(50, f.usd)), gas: 100_000)])
        #expect(trap[0].status == .failure(code: "contract_error", message: "contract: trap: explicit"))
        #expect(trap[0].gasUsed == GasSchedule.callBase + 300, "three commands ran before the trap")
        #expect(try f.balance(f.address(user)) == start - 70)
        #expect(try f.balance(contract) == 70)
        // Out of gas is a failure too.
        let starved = try f.commit([try f.tx(user, .callContract, CallPayload(contract: contract, input: [4, 1, 4, 1, 4, 1]), gas: GasSchedule.callBase + 150)])
        #expect(starved[0].status == .failure(code: "contract_error", message: "contract: out of gas"))
    }

    @Test("without a contract engine, contract transactions fail with a clear reason")
    func rules() throws {
        let noEngine = try Fixture()
        let r = try noEngine.commit([try noEngine.tx(noEngine.bank(0), .deployContract, DeployPayload(code: [1], constructorInput: []), gas: 200_000)])
        #expect(r[0].status == .failure(code: "contract_error", message: "contract: this node has no contract engine"))
    }
}
