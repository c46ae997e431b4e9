import ChainTypes
import HansaCrypto
import NIOCore

/// Who may connect: each pinned TLS key (from genesis) and the node key genesis pairs with it.
public struct PeerAllowList: Sendable {
    public let nodeKeys: [SPKIFingerprint: PublicKey]

    public init(_ nodeKeys: [SPKIFingerprint: PublicKey]) { self.nodeKeys = nodeKeys }

    public func contains(_ spki: SPKIFingerprint) -> Bool { nodeKeys[spki] != nil }
}

/// This node's side of the application handshake: what it proves and what it accepts.
///
/// `allowList` is shared and may change while the node runs (`LiveAllowList.replace`); a
/// config made with a fixed `allowed` list holds a live list nobody replaces.
public struct HandshakeConfig: Sendable {
    /// The protocol version this build speaks; a peer must speak the same.
    public static let currentProtocolVersion: UInt16 = 1

    public let chain: ChainBinding
    public let protocolVersion: UInt16
    public let localSPKI: SPKIFingerprint
    public let nodeKey: PrivateKey
    /// Who may connect, now and after governance rotates a pin.
    public let allowList: LiveAllowList

    /// The list new connections are checked against now.
    public var allowed: PeerAllowList { allowList.current }

    /// A config following `allowList`, which the node replaces when pins change.
    public init(chain: ChainBinding, protocolVersion: UInt16 = currentProtocolVersion,
                localSPKI: SPKIFingerprint, nodeKey: PrivateKey, allowList: LiveAllowList) {
        self.chain = chain
        self.protocolVersion = protocolVersion
        self.localSPKI = localSPKI
        self.nodeKey = nodeKey
        self.allowList = allowList
    }

    /// A config with a fixed allow list (a live list of its own that nothing replaces).
    public init(chain: ChainBinding, protocolVersion: UInt16 = currentProtocolVersion,
                localSPKI: SPKIFingerprint, nodeKey: PrivateKey, allowed: PeerAllowList) {
        self.init(chain: chain, protocolVersion: protocolVersion, localSPKI: localSPKI, nodeKey: nodeKey,
                  allowList: LiveAllowList(allowed))
    }
}

/// A peer that completed the handshake: its pinned TLS key and its proven node key.
public struct PeerIdentity: Hashable, Sendable, CustomStringConvertible {
    public let spki: SPKIFingerprint
    public let nodeKey: PublicKey
    public var description: String { "node \(nodeKey.hex.prefix(16))… (tls \(spki.hex.prefix(16))…)" }
}

/// What the handshake asks its channel handler to do.
public enum HandshakeAction: Equatable, Sendable {
    /// Send this frame body (kind byte included).
    case send([UInt8])
    /// The peer is authenticated; application messages may flow.
    case established(PeerIdentity)
    /// Hand this application message (kind byte removed) to the layer above.
    case deliver(ByteBuffer)
}

/// The application handshake as a pure state machine (no I/O, no clock; the nonce is passed in).
///
/// idle → (TLS done: send hello) → awaitingHello → (peer's hello checked: send auth) →
/// awaitingAuth → (peer's signature checked) → established. Any refusal moves to `failed` and
/// throws; the handler then closes the connection. The allow list is a value: the one current
/// when TLS completed (passed to `tlsEstablished`), else the config's when the machine was made;
/// a later `LiveAllowList.replace` reaches the connection as `PeerPinRevoked`, not through here.
/// Invariant: no message is delivered and none may be sent before `established`.
public struct HandshakeStateMachine: Sendable {
    enum State: Sendable {
        case idle
        case awaitingHello(tlsSPKI: SPKIFingerprint, local: PeerHello)
        case awaitingAuth(local: PeerHello, peer: PeerHello)
        case established(PeerIdentity)
        case failed
    }

    public let role: HandshakeRole
    public let config: HandshakeConfig
    /// The pins this handshake accepts (a snapshot of `config.allowList`).
    public private(set) var allowed: PeerAllowList
    private(set) var state: State = .idle

    public init(role: HandshakeRole, config: HandshakeConfig) {
        self.role = role
        self.config = config
        self.allowed = config.allowed
    }

    /// Where the handshake stands, for log lines and timeout reasons.
    public var phaseName: String { state.phaseName }

    public var isEstablished: Bool {
        if case .established = state { return true }
        return false
    }

    /// TLS completed with `peerSPKI` and ALPN `negotiatedProtocol`; returns the hello to send.
    /// `allowed`, when given, is the allow list current now, which the rest of the handshake uses.
    public mutating func tlsEstablished(peerSPKI: SPKIFingerprint, negotiatedProtocol: String?, nonce: [UInt8],
                                        allowed: PeerAllowList? = nil) throws(PeerTransportError) -> [HandshakeAction] {
        guard case .idle = state else { preconditionFailure("TLS established twice") }
        state = .failed
        if let allowed { self.allowed = allowed }
        guard negotiatedProtocol == PeerTLS.alpn else { throw .alpnMismatch(negotiated: negotiatedProtocol) }
        guard self.allowed.contains(peerSPKI) else { throw .notPinned(peerSPKI) }
        let hello = PeerHello(protocolVersion: config.protocolVersion, chainID: config.chain.id.value,
                              genesisHash: config.chain.genesisHash, spki: config.localSPKI,
                              nonce: nonce, nodeKey: config.nodeKey.publicKey)
        state = .awaitingHello(tlsSPKI: peerSPKI, local: hello)
        return [.send([FrameKind.hello.rawValue] + hello.encoded)]
    }

    /// A frame body arrived from the peer.
    public mutating func receive(_ frame: ByteBuffer) throws(PeerTransportError) -> [HandshakeAction] {
        let current = state
        state = .failed
        var body = frame
        guard let kindByte = body.readInteger(as: UInt8.self) else { throw .emptyFrame }
        guard let kind = FrameKind(rawValue: kindByte) else { throw .unknownFrameKind(kindByte) }
        switch (current, kind) {
        case (.awaitingHello(let tlsSPKI, let local), .hello):
            let peer = try checkHello(Array(body.readableBytesView), tlsSPKI: tlsSPKI, local: local)
            state = .awaitingAuth(local: local, peer: peer)
            let digest = transcript(signer: role, local: local, peer: peer)
            return [.send([FrameKind.auth.rawValue] + config.nodeKey.sign(digest: digest).compact)]
        case (.awaitingAuth(let local, let peer), .auth):
            let signature: Signature
            do { signature = try Signature(compact: Array(body.readableBytesView)) } catch {
                throw .malformedFrame(DecodeError(field: "PeerAuth.signature", offset: 1,
                                                  reason: .invalidValue(error.description)))
            }
            let digest = transcript(signer: role.other, local: local, peer: peer)
            guard peer.nodeKey.verify(signature, digest: digest) else { throw .badSignature }
            let identity = PeerIdentity(spki: peer.spki, nodeKey: peer.nodeKey)
            state = .established(identity)
            return [.established(identity)]
        case (.established, .message):
            state = current
            return [.deliver(body)]
        default:
            throw .unexpectedFrame(kind, phase: current.phaseName)
        }
    }

    /// The hello's checks, in the order that names the most specific reason:
    /// version (during decoding), chain, genesis, the TLS key, then the node key genesis pins.
    private func checkHello(_ bytes: [UInt8], tlsSPKI: SPKIFingerprint,
                            local: PeerHello) throws(PeerTransportError) -> PeerHello {
        let hello = try PeerHello.decode(bytes, expectedVersion: config.protocolVersion)
        guard hello.chainID == config.chain.id.value else {
            throw .wrongChain(expected: config.chain.id.value, got: hello.chainID)
        }
        guard hello.genesisHash == config.chain.genesisHash else {
            throw .wrongGenesis(expected: config.chain.genesisHash, got: hello.genesisHash)
        }
        guard hello.spki == tlsSPKI else { throw .spkiMismatch(claimed: hello.spki, tls: tlsSPKI) }
        guard hello.spki != config.localSPKI else { throw .selfConnection }
        guard let expected = allowed.nodeKeys[hello.spki] else { throw .notPinned(hello.spki) }
        guard expected == hello.nodeKey else {
            throw .nodeKeyMismatch(spki: hello.spki, expected: expected, claimed: hello.nodeKey)
        }
        return hello
    }

    private func transcript(signer: HandshakeRole, local: PeerHello, peer: PeerHello) -> Hash {
        let (initiator, responder) = role == .initiator ? (local, peer) : (peer, local)
        return HandshakeTranscript.digest(chain: config.chain, signer: signer,
                                          initiator: initiator, responder: responder)
    }
}

extension HandshakeStateMachine.State {
    var phaseName: String {
        switch self {
        case .idle: "waiting for TLS"
        case .awaitingHello: "waiting for the hello"
        case .awaitingAuth: "waiting for the handshake signature"
        case .established: "established"
        case .failed: "failed"
        }
    }
}
