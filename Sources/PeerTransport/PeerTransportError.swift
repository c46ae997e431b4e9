import ChainTypes
import HansaCrypto

/// Why a peer connection was refused or closed. Every case is a sentence for the log: a peer's
/// bad input is expected, never a crash (STYLE.md, "assert invariants, throw on input").
public enum PeerTransportError: Error, Equatable, Sendable, CustomStringConvertible {
    // TLS
    /// The peer's TLS key is not pinned for any node of this chain.
    case notPinned(SPKIFingerprint)
    case noPeerCertificate
    /// The peer's certificate is outside its validity dates (Unix seconds).
    case certificateNotValidNow(notBefore: Int, notAfter: Int, now: Int)
    /// The peer did not agree on ALPN `hansa/1`.
    case alpnMismatch(negotiated: String?)
    /// The TLS layer failed for a reason of its own (the peer's alert, a protocol error).
    case tlsFailed(String)
    // Application handshake
    case wrongVersion(expected: UInt16, got: UInt64)
    case wrongChain(expected: String, got: String)
    case wrongGenesis(expected: Hash, got: Hash)
    /// The hello names a TLS key other than the one the peer used in TLS.
    case spkiMismatch(claimed: SPKIFingerprint, tls: SPKIFingerprint)
    /// The hello's node key is not the one genesis pairs with the peer's TLS key.
    case nodeKeyMismatch(spki: SPKIFingerprint, expected: PublicKey, claimed: PublicKey)
    /// The transcript signature does not verify under the peer's node key.
    case badSignature
    /// The peer presented this node's own TLS key (a loop or a copied key).
    case selfConnection
    // Frames
    case emptyFrame
    case frameTooLarge(bytes: Int, maxFrameBytes: Int)
    case unknownFrameKind(UInt8)
    case malformedFrame(DecodeError)
    /// A frame of a kind the handshake does not expect now (e.g. a message before the handshake).
    case unexpectedFrame(FrameKind, phase: String)
    /// This node tried to send a message before the handshake completed.
    case notEstablished
    /// TLS and the application handshake did not both complete within the configured time.
    case handshakeTimedOut(afterMilliseconds: Int64, phase: String)
    // Sending
    /// A bulk message was dropped because the peer's send queue was full (`PeerSendQueue`).
    case droppedFromSendQueue
    /// A critical message did not fit the peer's send queue: the peer is not reading fast enough
    /// to follow consensus, and is closed.
    case peerTooSlow(queuedMessages: Int, queuedBytes: Int)
    /// Governance rotated this peer's pin away while the connection was open
    /// (`LiveAllowList.replace`); the peer must reconnect with its new certificate.
    case pinRevoked(SPKIFingerprint)
    /// The peer closed the connection.
    case connectionClosed
    /// The socket failed (reset, refused, unreachable).
    case connectionFailed(String)

    public var description: String {
        switch self {
        case .notPinned(let spki): "the peer's TLS key \(spki) is not pinned in genesis"
        case .noPeerCertificate: "the peer presented no TLS certificate"
        case .certificateNotValidNow(let nb, let na, let now):
            "the peer's TLS certificate is valid from \(nb) to \(na) (Unix seconds), not now (\(now))"
        case .alpnMismatch(let p): "the peer did not negotiate ALPN \(PeerTLS.alpn) (got \(p ?? "none"))"
        case .tlsFailed(let why): "TLS failed: \(why)"
        case .wrongVersion(let e, let g): "the peer speaks protocol version \(g), this node \(e)"
        case .wrongChain(let e, let g): "the peer belongs to chain \(g), not \(e)"
        case .wrongGenesis(let e, let g): "the peer's genesis is \(g.hex.prefix(16))…, not this chain's \(e.hex.prefix(16))…"
        case .spkiMismatch(let c, let t): "the peer's hello claims TLS key \(c) but TLS used \(t)"
        case .nodeKeyMismatch(let s, let e, let c):
            "the peer with TLS key \(s) claims node key \(c); genesis gives \(e)"
        case .badSignature: "the peer's handshake signature does not verify under its node key"
        case .selfConnection: "the peer presented this node's own TLS key"
        case .emptyFrame: "the peer sent an empty frame"
        case .frameTooLarge(let b, let m): "a frame of \(b) bytes exceeds the maximum of \(m) bytes"
        case .unknownFrameKind(let k): "the peer sent a frame of unknown kind 0x\(Hex.encode([k]))"
        case .malformedFrame(let e): "the peer sent a malformed frame: \(e)"
        case .unexpectedFrame(let k, let phase): "the peer sent a \(k) frame while \(phase)"
        case .notEstablished: "cannot send before the peer handshake completes"
        case .handshakeTimedOut(let ms, let phase):
            "the peer did not complete the handshake within \(ms) ms (still \(phase))"
        case .droppedFromSendQueue: "a bulk message was dropped: the peer's send queue was full"
        case .peerTooSlow(let n, let b):
            "the peer is too slow: its send queue is full of critical messages (\(n) messages, \(b) bytes)"
        case .pinRevoked(let spki): "the peer's TLS key \(spki) is no longer pinned: governance rotated its pin"
        case .connectionClosed: "the connection closed"
        case .connectionFailed(let why): "the connection failed: \(why)"
        }
    }
}
