import NIOConcurrencyHelpers
import NIOCore

/// The allow list a running node follows: genesis's pins at start, replaced whenever
/// governance rotates a pin (docs/TRANSPORT.md "Pin rotation"), without a restart.
///
/// Every new connection reads it twice: the TLS verification callback checks the peer's
/// SPKI against `current`, and once TLS is done the connection is admitted — checked again
/// and recorded under the same lock — and its handshake goes on with the list of that moment.
/// `replace` swaps the list and closes every admitted connection whose pin it removed (or
/// gave to another node key), with `PeerTransportError.pinRevoked`.
///
/// Invariant: after `replace` returns, no connection admitted under a pin the new list does
/// not map to the same node key stays open (its close is under way); an admission and a
/// replacement never interleave, so none slips between the check and the record.
/// A list never replaced behaves as the fixed list of `HandshakeConfig(allowed:)`.
public final class LiveAllowList: Sendable {
    private struct Admitted: Sendable {
        let spki: SPKIFingerprint
        let channel: any Channel
    }

    private struct State: Sendable {
        var list: PeerAllowList
        /// Connections past TLS, until they close: never more than the connections open.
        var admitted: [ObjectIdentifier: Admitted] = [:]
    }

    private let state: NIOLockedValueBox<State>

    public init(_ list: PeerAllowList) {
        state = NIOLockedValueBox(State(list: list))
    }

    /// The list new connections are checked against now.
    public var current: PeerAllowList { state.withLockedValue { $0.list } }

    /// Connections admitted and not yet closed (for tests and status).
    public var admittedConnections: Int { state.withLockedValue { $0.admitted.count } }

    /// Makes `list` the one every new connection is checked against, and closes the admitted
    /// connections whose pin `list` no longer maps to the same node key. Returns those pins:
    /// the ones removed, or remapped to another node key.
    @discardableResult
    public func replace(_ list: PeerAllowList) -> Set<SPKIFingerprint> {
        let (revoked, closing) = state.withLockedValue { state -> (Set<SPKIFingerprint>, [Admitted]) in
            let old = state.list.nodeKeys
            let revoked = Set(old.keys.filter { list.nodeKeys[$0] != old[$0] })
            state.list = list
            let closing = state.admitted.values.filter { revoked.contains($0.spki) || !list.contains($0.spki) }
            for entry in closing { state.admitted[ObjectIdentifier(entry.channel)] = nil }
            return (revoked, closing)
        }
        // Outside the lock: the event runs the connection handler, which may call `forget`.
        for entry in closing {
            entry.channel.pipeline.fireUserInboundEventTriggered(PeerPinRevoked(spki: entry.spki))
        }
        return revoked
    }

    /// Admits a connection whose TLS peer presented `spki`: returns the list to finish its
    /// handshake with, or nil when `spki` is not allowed (the connection must be refused).
    func admit(_ spki: SPKIFingerprint, channel: any Channel) -> PeerAllowList? {
        state.withLockedValue { state in
            guard state.list.contains(spki) else { return nil }
            state.admitted[ObjectIdentifier(channel)] = Admitted(spki: spki, channel: channel)
            return state.list
        }
    }

    /// Stops tracking a closed connection.
    func forget(_ channel: any Channel) {
        state.withLockedValue { _ = $0.admitted.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}

/// Raised inbound on a connection by `LiveAllowList.replace` when the peer's pin was revoked;
/// `PeerConnectionHandler` closes the connection with `PeerTransportError.pinRevoked`.
public struct PeerPinRevoked: Sendable, Equatable {
    public let spki: SPKIFingerprint
}
