import ChainTypes
import Ledger
import NodeCore

/// Why a node cannot start or had to stop. Each case prints one sentence naming the problem;
/// `hansa node run` prints it and exits non-zero.
public enum NodeError: Error, CustomStringConvertible, Sendable {
    /// The genesis cannot run a network (a validator without a pin or an address, …).
    case genesis(String)
    /// The data directory belongs to another chain, or cannot be opened.
    case dataDirectory(path: String, why: String)
    /// A listening address is taken or cannot be bound.
    case cannotListen(what: String, address: String, why: String)
    /// The consensus driver stopped (a store fault or a broken invariant).
    case driver(DriverError)
    /// The ledger failed.
    case ledger(LedgerError)

    public var description: String {
        switch self {
        case .genesis(let why): "genesis: \(why)"
        case .dataDirectory(let path, let why): "data directory \(path): \(why)"
        case .cannotListen(let what, let address, let why): "cannot listen for \(what) on \(address): \(why)"
        case .driver(let e): "consensus stopped: \(e)"
        case .ledger(let e): "ledger: \(e)"
        }
    }
}
