import ChainTypes
import HansaCrypto
import Logging
import NIOCore
import PeerTransport

/// A node genesis pins: its node key (what its handshake proves), its TLS key's SPKI hash,
/// and — for a validator — its index in the validator set and the address peers dial.
public struct PeerInfo: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public let nodeKey: PublicKey
    public let spki: SPKIFingerprint
    /// The validator's index in the genesis `ValidatorSet` order; nil for an observer.
    public let validatorIndex: Int?
    /// Where peers connect; nil for an observer (observers dial, they are never dialled).
    public let address: PeerAddress?

    public init(name: String, nodeKey: PublicKey, spki: SPKIFingerprint, validatorIndex: Int?, address: PeerAddress?) {
        self.name = name; self.nodeKey = nodeKey; self.spki = spki
        self.validatorIndex = validatorIndex; self.address = address
    }

    public var isValidator: Bool { validatorIndex != nil }
    public var description: String { validatorIndex.map { "\(name) (validator \($0))" } ?? "\(name) (observer)" }
}

/// `host:port`.
public struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) { self.host = host; self.port = port }

    /// Parses `host:port` (the host may be `[v6]`); nil when it is not one.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Every node the genesis pins, looked up by node key, and who dials whom.
///
/// One connection per pair of nodes: between validators the one with the lower index dials
/// (so two validators never race to connect to each other), and observers dial every
/// validator. A node accepts an inbound connection only from a peer that is meant to dial it.
public struct PeerDirectory: Sendable {
    public let peers: [PeerInfo]
    private let byKey: [PublicKey: PeerInfo]
    private let byIndex: [Int: PeerInfo]

    public init(_ peers: [PeerInfo]) {
        self.peers = peers
        byKey = Dictionary(peers.map { ($0.nodeKey, $0) }, uniquingKeysWith: { a, _ in a })
        byIndex = Dictionary(peers.compactMap { p in p.validatorIndex.map { ($0, p) } }, uniquingKeysWith: { a, _ in a })
    }

    /// The validators and observers of `genesis`. Throws when a validator has no TLS pin or
    /// no dialable address: a network cannot run without them.
    /// `dial` replaces validators' genesis addresses by name (config.toml `[p2p.dial]`); a
    /// name that is no validator of the genesis is refused.
    public static func from(genesis: Genesis, dial: [String: PeerAddress] = [:]) throws(NodeError) -> PeerDirectory {
        var peers: [PeerInfo] = []
        let names = Set(genesis.validators.validators.map(\.name))
        if let stray = dial.keys.sorted().first(where: { !names.contains($0) }) {
            throw .genesis("config.toml [p2p.dial] names \(stray), which is no validator of genesis \(genesis.chain.value)")
        }
        for (i, v) in genesis.validators.validators.enumerated() {
            guard let pin = v.tlsSPKISHA256, let spki = SPKIFingerprint(bytes: pin.bytes) else {
                throw .genesis("validator \(v.name) has no tls_spki_sha256 pin; every validator of a network needs one")
            }
            guard let address = PeerAddress(v.p2pAddress) else {
                throw .genesis("validator \(v.name)'s p2p_address \"\(v.p2pAddress)\" is not host:port")
            }
            peers.append(PeerInfo(name: v.name, nodeKey: v.publicKey, spki: spki, validatorIndex: i, address: dial[v.name] ?? address))
        }
        for o in genesis.observers {
            guard let spki = SPKIFingerprint(bytes: o.tlsSPKISHA256.bytes) else { continue }
            peers.append(PeerInfo(name: o.name, nodeKey: o.nodeKey, spki: spki, validatorIndex: nil, address: nil))
        }
        return PeerDirectory(peers)
    }

    public func peer(nodeKey: PublicKey) -> PeerInfo? { byKey[nodeKey] }
    public func validator(_ index: Int) -> PeerInfo? { byIndex[index] }
    public var validators: [PeerInfo] { peers.filter(\.isValidator) }
    public var observers: [PeerInfo] { peers.filter { !$0.isValidator } }

    /// The TLS pins and the node key each pairs with, for the handshake.
    public var allowList: PeerAllowList {
        PeerAllowList(Dictionary(peers.map { ($0.spki, $0.nodeKey) }, uniquingKeysWith: { a, _ in a }))
    }

    /// Whether `local` dials `remote` (else `remote` dials `local`, or neither connects).
    public static func dials(_ local: PeerInfo, _ remote: PeerInfo) -> Bool {
        guard let r = remote.validatorIndex, remote.address != nil else { return false }
        guard let l = local.validatorIndex else { return true }
        return l < r
    }

    /// The peers `local` dials.
    public func dialled(by local: PeerInfo) -> [PeerInfo] {
        peers.filter { $0.nodeKey != local.nodeKey && Self.dials(local, $0) }
    }
}

extension PeerDirectory {
    /// The largest peer frame on the chain of `genesis`: `max_block_bytes` + 64 KiB.
    public static func maxFrameBytes(_ genesis: Genesis) -> Int {
        FrameLimits.maxFrameBytes(maxBlockBytes: genesis.consensus.maxBlockBytes)
    }

    /// The transport endpoint of a node of `genesis` with TLS `identity` and `nodeKey`: the
    /// genesis chain binding, frames up to `maxFrameBytes(genesis)`, the handshake deadline and a
    /// send queue of `sendQueueMaxMessages` messages and four frames' bytes. `allowList` defaults to
    /// this directory's genesis pins; `chain` and `maxFrameBytes` are there for tests that
    /// deliberately speak for another chain or send oversize frames.
    public func endpointConfig(genesis: Genesis, identity: NodeTLSIdentity, nodeKey: PrivateKey, allowList: LiveAllowList? = nil,
                               handshakeTimeout: TimeAmount = .seconds(10), sendQueueMaxMessages: Int = 1024,
                               chain: ChainBinding? = nil, maxFrameBytes: Int? = nil, logger: Logger) -> PeerEndpointConfig {
        let maxFrame = maxFrameBytes ?? Self.maxFrameBytes(genesis)
        let handshake = HandshakeConfig(chain: chain ?? genesis.binding, localSPKI: identity.fingerprint, nodeKey: nodeKey,
                                        allowList: allowList ?? LiveAllowList(self.allowList))
        let limits = PeerConnectionLimits(handshakeTimeout: handshakeTimeout,
                                          send: PeerSendLimits(maxQueuedMessages: sendQueueMaxMessages, maxQueuedBytes: 4 * maxFrame))
        return PeerEndpointConfig(identity: identity, handshake: handshake, maxFrameBytes: maxFrame, limits: limits, logger: logger)
    }
}
