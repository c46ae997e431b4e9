import ChainTypes
import ContractVM
import Ledger
import NodeCore
import PBFT
import TradeFinance

/// The chain of the real-ledger mode: the simulator's validators (so their commit
/// certificates verify in `Ledger.apply`), funded users who send each other transfers, and
/// the parties of a letter of credit — bank 0 issues, bank 1 advises, an importer holding
/// USD at bank 0, an exporter banking with bank 1 and a carrier (`DevChain.withTradeParties`).
struct RealLedgerWorld {
    let genesis: Genesis
    /// Transfers between `dev.userKeys`, signed for this genesis.
    let dev: DevChain
    let contract: LetterOfCredit
    /// One signature cache for every replica's executor: a transaction's signature is
    /// verified once in the process, not once per replica (the answers are the same).
    let signatures = SignatureCache()

    static let users = 8
    static let depositPerUser: UInt64 = 1_000_000_00
    static let importerDeposit: UInt64 = 1_000_000_00
    /// Monday 24 November 2025, 16:00 UTC — a banking day, as the credit's rules count them.
    static let genesisTimeMillis: UInt64 = 1_764_000_000_000

    /// `keys` in validator-set order.
    init(validators: ValidatorSet, keys: [PrivateKey], contract: LetterOfCredit) {
        let users = (0..<Self.users).map { DevChain.key("user \($0)") }
        let usd = try! CurrencyCode("USD")
        let bank0 = validators.validators[0].address
        var participants = validators.validators.map { Participant(name: $0.name, publicKey: $0.publicKey, role: .validatorBank, bank: nil) }
        participants += users.enumerated().map { Participant(name: "user-\($0.offset)", publicKey: $0.element.publicKey, role: .exporter, bank: bank0) }
        let base = Genesis(chain: Cluster.chain.id, genesisTimeMillis: Self.genesisTimeMillis, validators: validators,
                           participants: participants,
                           currencies: [Currency(code: usd, decimals: 2, issuers: validators.validators.map(\.address))],
                           deposits: users.map { Deposit(account: $0.publicKey.address, currency: usd, amount: Self.depositPerUser) },
                           consensus: SimConfig.parameters, governanceThreshold: UInt64(validators.quorum))
        dev = DevChain(genesis: base, validatorKeys: keys, userKeys: users).withTradeParties(importerDeposit: Self.importerDeposit)
        genesis = dev.genesis
        self.contract = contract
    }

    /// A fresh ledger on `store` (initialised at the first boot), or the one it holds.
    func openLedger(on store: any KeyValueStore) throws(LedgerError) -> Ledger {
        try Ledger(store: store, genesis: genesis, engine: HansaVM(), signatures: signatures, cacheBytes: 0)
    }
}

/// The real-ledger mode's application: NodeCore's `LedgerApplication` — the real `Ledger`
/// and `Mempool` on the node's fault-injecting store — with what the simulator adds around
/// it: the trace, the checkers' notes after each commit (the state root the store holds, the
/// receipts), and a censoring primary's choice of transactions.
final class RealLedgerApp: SimApp {
    let inner: LedgerApplication
    unowned let node: SimNode
    unowned let cluster: Cluster
    var ledger: Ledger { inner.ledger }

    init(node: SimNode, cluster: Cluster, ledger: Ledger) {
        self.node = node
        self.cluster = cluster
        inner = LedgerApplication(ledger: ledger, mempool: Mempool(executor: ledger.executor))
    }

    var head: ChainTip { inner.head }
    var censoring: Bool { node.byzantine?.behaviour == .censoringPrimary }

    func rejection(of block: Block, parent: ChainTip) -> String? { inner.rejection(of: block, parent: parent) }

    func buildProposal(height: UInt64, view: UInt64, parent: ChainTip, proposer: Address, nowMillis: UInt64) throws(DriverError) -> Block {
        cluster.traceAction(node, .buildProposal(height: height, view: view, parent: parent))
        var candidates = inner.proposalCandidates()
        if censoring { candidates = node.byzantine!.censor(candidates, ledger: node.chain) }
        let block = try inner.propose(candidates, height: height, view: view, parent: parent, proposer: proposer, nowMillis: nowMillis)
        cluster.traceProposal(node, block)
        return block
    }

    func commit(_ block: Block, certificate: CommitCertificate, nowMillis: UInt64) throws(DriverError) {
        cluster.traceAction(node, .commit(block, certificate))
        do {
            try inner.commit(block, certificate: certificate, nowMillis: nowMillis)
        } catch {
            // The node crashed writing the block, which landed: it is committed there.
            if node.disk.faults.landedLastWrite { cluster.committed(node, block, certificate, repeated: node.chain.append(block, certificate)) }
            throw error
        }
        cluster.committed(node, block, certificate, repeated: node.chain.append(block, certificate))
        guard node.isHonest else { return }
        let h = block.header.height
        do {
            let root = try SparseMerkleTree(store: ledger.store, prefix: Ledger.Keys.stateNodePrefix).root()
            cluster.ledgerCheckers.checkStateRoot(node: node.index, block: block, stored: root)
        } catch {
            cluster.ledgerCheckers.unreadable(node: node.index, height: h, "state root", error)
        }
        do {
            cluster.ledgerCheckers.noteReceipts(node: node.index, block: block, receipts: try ledger.blockReceipts(at: h)?.transactions ?? [])
        } catch {
            cluster.ledgerCheckers.unreadable(node: node.index, height: h, "receipts", error)
        }
    }

    func hasPendingWork(nowMillis: UInt64) -> Bool { inner.hasPendingWork(nowMillis: nowMillis) }

    /// A censoring primary's own core is not told what it waits for (as in the fast mode).
    func oldestPending() -> Hash? { censoring ? nil : inner.oldestPending() }

    func saveDurableState(_ state: DurableState) throws(DriverError) {
        cluster.traceAction(node, .persist(state))
        try inner.saveDurableState(state)
    }

    func loadDurableState() throws(DriverError) -> DurableState? { try inner.loadDurableState() }

    func syncRange(fromHeight: UInt64, toHeight: UInt64) -> [(Block, CommitCertificate)] {
        inner.syncRange(fromHeight: fromHeight, toHeight: toHeight)
    }

    func offer(_ tx: Transaction, order: Int, nowMillis: UInt64) -> Bool {
        do {
            try inner.submit(tx, nowMillis: nowMillis)
            return true
        } catch {
            cluster.noteRefusal(node, tx.hash, error)
            return false
        }
    }

    func holds(_ hash: Hash) -> Bool { inner.mempool.contains(hash) }

    /// The transaction's receipt in this ledger, with its block's height and time.
    func receipt(of hash: Hash) -> (height: UInt64, timeMillis: UInt64, receipt: Receipt)? {
        guard let found = try? ledger.transaction(hash), let block = try? ledger.block(at: found.height) else { return nil }
        return (found.height, block.header.timestampMillis, found.receipt)
    }
}
