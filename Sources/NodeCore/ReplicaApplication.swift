import ChainTypes
import Ledger
import PBFT

/// Why the driver stopped. Every case is a local fault or a broken invariant, not bad input:
/// the node stops and restarts from its durable state (docs/LEDGER.md "Concurrency model").
public enum DriverError: Error, CustomStringConvertible, Sendable {
    /// The ledger failed (a store fault, or a committed block it refuses — which means a
    /// byzantine quorum or a non-deterministic execution).
    case ledger(LedgerError)
    /// The durable consensus state could not be written or read back.
    case durableState(String)

    public var description: String {
        switch self {
        case .ledger(let e): "ledger: \(e)"
        case .durableState(let why): "consensus state: \(why)"
        }
    }
}

/// The application a `ReplicaDriver` runs PBFT over: what the driver needs to perform every
/// `ReplicaAction` except sending. The node and the integration tests use `LedgerApplication`
/// (the real `Ledger` and `Mempool`); the simulator also has a fast stand-in of its own.
///
/// The driver is the application's one writer: it calls these methods from one task, in the
/// order PBFT's actions ask for them (docs/LEDGER.md "Concurrency model").
///
/// Invariant (persist before send): `saveDurableState` returns only once the state is
/// durable; the driver hands no message of a step to the network before every persist of
/// that step returned.
public protocol ReplicaApplication: AnyObject {
    /// The committed chain's last block (the genesis at height 0): where a replica (re)starts.
    var head: ChainTip { get }

    /// nil when `block` may follow `parent` (it extends the committed head and executes to
    /// the roots its header claims), else the reason it may not — PBFT's `BlockValidator`.
    /// An application that cannot check a block refuses it.
    func rejection(of block: Block, parent: ChainTip) -> String?

    /// A block for (`height`, `view`) on `parent`, proposed by `proposer`: pending work fitted
    /// to the genesis block limits, stamped with `nowMillis` or just after the parent's time
    /// if that is later.
    func buildProposal(height: UInt64, view: UInt64, parent: ChainTip, proposer: Address,
                       nowMillis: UInt64) throws(DriverError) -> Block

    /// Applies a committed block with its certificate (heights in order, one each) and drops
    /// what it settled from the pending work. If it throws, the node must restart (reopen its
    /// store) before going on: the write may or may not have landed.
    func commit(_ block: Block, certificate: CommitCertificate, nowMillis: UInt64) throws(DriverError)

    /// Whether a block is wanted at `nowMillis`: transactions a block could take now, or
    /// scheduled work that is due.
    func hasPendingWork(nowMillis: UInt64) -> Bool

    /// The transaction that has waited longest among those a block could take now, or nil:
    /// what PBFT's request timer waits for (`ReplicaInput.tick`).
    func oldestPending() -> Hash?

    /// Durably stores the replica's consensus state, replacing the previous one (synced).
    func saveDurableState(_ state: DurableState) throws(DriverError)

    /// The consensus state last stored, or nil for a replica that never persisted one.
    func loadDurableState() throws(DriverError) -> DurableState?

    /// Committed blocks `fromHeight...toHeight` with their certificates, for a peer that
    /// syncs: in order, bounded (at least one block when there is one), empty when none.
    func syncRange(fromHeight: UInt64, toHeight: UInt64) -> [(Block, CommitCertificate)]
}

/// An application as PBFT's block validator.
struct ApplicationValidator<App: ReplicaApplication>: BlockValidator {
    let app: App
    func rejection(of block: Block, parent: ChainTip) -> String? { app.rejection(of: block, parent: parent) }
}
