import ChainTypes
import HansaCrypto

/// The first frame each side sends after TLS: who it claims to be and a fresh nonce.
///
/// Wire form (canonical encoding, docs/TRANSPORT.md): uvarint version ‖ string chain id ‖
/// genesis hash ‖ 32-byte SPKI hash ‖ 32-byte nonce ‖ 33-byte node key. The version comes first
/// so a peer of another version is named as such rather than as malformed.
public struct PeerHello: Equatable, Sendable {
    public static let nonceBytes = 32
    public var protocolVersion: UInt16
    public var chainID: String
    public var genesisHash: Hash
    public var spki: SPKIFingerprint
    public var nonce: [UInt8]
    public var nodeKey: PublicKey

    public init(protocolVersion: UInt16, chainID: String, genesisHash: Hash, spki: SPKIFingerprint,
                nonce: [UInt8], nodeKey: PublicKey) {
        precondition(nonce.count == Self.nonceBytes, "a hello nonce is 32 bytes")
        self.protocolVersion = protocolVersion
        self.chainID = chainID
        self.genesisHash = genesisHash
        self.spki = spki
        self.nonce = nonce
        self.nodeKey = nodeKey
    }

    public var encoded: [UInt8] {
        var w = CanonicalWriter(capacity: 192)
        w.uvarint(UInt64(protocolVersion))
        w.string(chainID)
        w.hash(genesisHash)
        w.fixed(spki.bytes)
        w.fixed(nonce)
        w.publicKey(nodeKey)
        return w.bytes
    }

    /// Decodes a hello; a version other than `expectedVersion` is refused before the rest is read.
    public static func decode(_ bytes: [UInt8], expectedVersion: UInt16) throws(PeerTransportError) -> PeerHello {
        var r = CanonicalReader(bytes, root: "PeerHello")
        do {
            let version = try r.uvarint("version")
            guard version == UInt64(expectedVersion) else {
                throw PeerTransportError.wrongVersion(expected: expectedVersion, got: version)
            }
            let chain = try r.string("chainID", limit: ChainID.maxBytes)
            let genesis = try r.hash("genesisHash")
            let spki = SPKIFingerprint(bytes: try r.fixed("spki", count: SPKIFingerprint.byteCount))!
            let nonce = try r.fixed("nonce", count: nonceBytes)
            let key = try r.publicKey("nodeKey")
            try r.finish()
            return PeerHello(protocolVersion: expectedVersion, chainID: chain, genesisHash: genesis,
                             spki: spki, nonce: nonce, nodeKey: key)
        } catch let error as PeerTransportError {
            throw error
        } catch let error as DecodeError {
            throw .malformedFrame(error)
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
    }
}

/// Which end of the connection a node is; the transcript signature names it, so neither side's
/// signature can be reflected back as the other's.
public enum HandshakeRole: String, Sendable {
    case initiator
    case responder

    public var other: HandshakeRole { self == .initiator ? .responder : .initiator }
}

/// What each side signs with its secp256k1 node key once both hellos are known.
///
/// digest = SHA-256(string("hansa/sign/v2") ‖ string("peer/handshake") ‖ string(chain id) ‖
/// genesis hash ‖ body), the layout of `SigningDomain.digest` (PROTOCOL.md §4), where body =
/// uvarint version ‖ string(signer's role) ‖ initiator SPKI ‖ responder SPKI ‖ initiator nonce ‖
/// responder nonce ‖ initiator node key ‖ responder node key. Binding both TLS keys and both
/// nonces means a stolen TLS key alone, or a node key alone, cannot complete a handshake, and a
/// recorded handshake cannot be replayed.
public enum HandshakeTranscript {
    /// The domain tag. Invariant: distinct from every `SigningDomain` tag.
    public static let domainTag = "peer/handshake"

    public static func digest(chain: ChainBinding, signer: HandshakeRole,
                              initiator: PeerHello, responder: PeerHello) -> Hash {
        var body = CanonicalWriter(capacity: 256)
        body.uvarint(UInt64(initiator.protocolVersion))
        body.string(signer.rawValue)
        body.fixed(initiator.spki.bytes)
        body.fixed(responder.spki.bytes)
        body.fixed(initiator.nonce)
        body.fixed(responder.nonce)
        body.publicKey(initiator.nodeKey)
        body.publicKey(responder.nodeKey)
        var w = CanonicalWriter(capacity: body.bytes.count + 128)
        w.string("hansa/sign/v2")
        w.string(domainTag)
        w.string(chain.id.value)
        w.hash(chain.genesisHash)
        w.fixed(body.bytes)
        return HansaCrypto.SHA256.hash(w.bytes)
    }
}
