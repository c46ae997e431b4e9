import ChainTypes
import Foundation
import Ledger
import LevelDBStore
import Testing

/// Scheduled calls on LevelDB: the same blocks give the same roots, index and bytes as on the
/// in-memory store, and a reopened directory lists the same pending calls.
@Suite("Scheduled calls on LevelDB")
struct ScheduledCallLevelDBTests {
    /// A call with input [n, s] schedules n calls [k] at +s seconds; a scheduled call [k]
    /// appends k to a log in slot 0, and traps after writing when k is 13.
    struct TickEngine: ContractEngine {
        func verify(code: [UInt8]) -> String? { nil }
        func run(code: [UInt8], entry: ContractEntry, input: [UInt8], gasLimit: UInt64, host: any ContractHost) -> ContractOutcome {
            switch entry {
            case .constructor: break
            case .call:
                guard input.count == 2 else { return ContractOutcome(succeeded: false, failure: "bad input", gasUsed: 1) }
                for k in 0..<input[0] { _ = host.scheduleCall(atMillis: host.blockTimeMillis + UInt64(input[1]) * 1_000, input: [k]) }
            case .scheduled:
                host.store([0], (host.load([0]) ?? []) + input)
                if input == [13] { return ContractOutcome(succeeded: false, failure: "trap: thirteen", gasUsed: 7) }
            }
            return ContractOutcome(succeeded: true, gasUsed: 10)
        }
    }

    static func entries(_ store: any KeyValueStore) throws -> [[UInt8]: [UInt8]] {
        var all: [[UInt8]: [UInt8]] = [:]
        try store.scan(prefix: [], from: nil) { k, v in all[k] = v; return true }
        return all
    }

    @Test("the same blocks on LevelDB and in memory: same roots, index and bytes; reopening keeps the pending calls")
    func sameAsMemory() throws {
        let dir = NSTemporaryDirectory() + "hansa-scheduled-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dev = DevChain(users: 2)
        let memory = MemoryStore()
        let a = try Ledger(store: memory, genesis: dev.genesis, engine: TickEngine())
        let bank = dev.validatorKeys[0], user = dev.userKeys[0]
        let contracts = (0..<3).map { Executor.contractAddress(deployer: bank.publicKey.address, nonce: UInt64($0)) }
        func tx(_ key: PrivateKey, _ nonce: UInt64, _ kind: TransactionKind, _ payload: some CanonicalEncodable) -> Transaction {
            TransactionBody(chain: dev.binding, sender: key.publicKey, nonce: nonce, kind: kind,
                            payload: payload.canonicalBytes, gasLimit: 1_000_000).signed(with: key)
        }
        // Block 1 deploys three contracts; block 2 schedules 16 calls of each due at +3 s;
        // then blocks at +3 s, +4 s, +5 s run 24, 24 and none (8 per contract per block).
        let plan: [[Transaction]] = [
            (0..<3).map { tx(bank, UInt64($0), .deployContract, DeployPayload(code: [1], constructorInput: [])) },
            (0..<3).map { tx(user, UInt64($0), .callContract, CallPayload(contract: contracts[$0], input: [16, 3])) },
            [], [], [],
        ]
        var runs: [Int] = []
        do {
            let b = try Ledger(store: try LevelDBLedgerStore(path: dir), genesis: dev.genesis, engine: TickEngine())
            for (i, txs) in plan.enumerated() {
                let time = i <= 1 ? nil : a.head.timestampMillis + (i == 2 ? 3_000 : 1_000)
                let (block, cert) = try dev.nextBlock(on: a, txs, timestampMillis: time)
                try a.apply(block, certificate: cert)
                #expect(try b.rejection(of: block) == nil)
                try b.apply(block, certificate: cert)
                #expect(a.stateRoot == b.stateRoot)
                runs.append(try #require(try b.blockReceipts(at: block.header.height)).scheduled.count)
            }
            #expect(runs == [0, 0, 24, 24, 0])
            #expect(try b.pendingScheduledCalls(limit: 100).isEmpty)
            // Each contract's run scheduled k = 0…15; its 13 trapped and was undone.
            for contract in contracts {
                let log = try StateOverlay(store: b.store).get(StateKey.slot(contract, [0]))
                #expect(log == [UInt8]((0..<16).filter { $0 != 13 }))
            }
        }
        let reopened = try LevelDBLedgerStore(path: dir)
        #expect(try Self.entries(reopened) == memory.entries)
    }

    @Test("pending calls survive closing and reopening the directory")
    func pendingSurviveReopen() throws {
        let dir = NSTemporaryDirectory() + "hansa-scheduled-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dev = DevChain(users: 2)
        let bank = dev.validatorKeys[0], user = dev.userKeys[0]
        let contract = Executor.contractAddress(deployer: bank.publicKey.address, nonce: 0)
        var pending: [ScheduledCall] = []
        do {
            let ledger = try Ledger(store: try LevelDBLedgerStore(path: dir), genesis: dev.genesis, engine: TickEngine())
            for body in [
                TransactionBody(chain: dev.binding, sender: bank.publicKey, nonce: 0, kind: .deployContract,
                                payload: DeployPayload(code: [1], constructorInput: []).canonicalBytes, gasLimit: 1_000_000),
                TransactionBody(chain: dev.binding, sender: user.publicKey, nonce: 0, kind: .callContract,
                                payload: CallPayload(contract: contract, input: [5, 60]).canonicalBytes, gasLimit: 1_000_000),
            ] {
                let (block, cert) = try dev.nextBlock(on: ledger, [body.signed(with: body.sender == bank.publicKey ? bank : user)])
                try ledger.apply(block, certificate: cert)
            }
            pending = try ledger.pendingScheduledCalls(limit: 10)
            #expect(pending.map(\.input) == (0..<5).map { [UInt8($0)] })
        }
        let ledger = try Ledger(store: try LevelDBLedgerStore(path: dir), genesis: dev.genesis, engine: TickEngine())
        #expect(try ledger.pendingScheduledCalls(limit: 10) == pending)
        let (block, cert) = try dev.nextBlock(on: ledger, [], timestampMillis: ledger.head.timestampMillis + 60_000)
        try ledger.apply(block, certificate: cert)
        #expect(try ledger.receipts(at: block.header.height)?.map(\.transactionHash) == pending.map(\.id))
        #expect(try ledger.pendingScheduledCalls(limit: 10).isEmpty)
    }
}
