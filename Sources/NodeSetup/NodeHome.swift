import ChainTypes
import Foundation
import HansaConfig
import PeerTransport

/// What a node is in its genesis.
public enum NodeMembership: Equatable, Sendable, CustomStringConvertible {
    /// A voting validator; `index` is its position in the genesis `ValidatorSet` (address order),
    /// which fixes the PBFT primary rotation.
    case validator(index: Int, name: String)
    case observer(ObserverRole, name: String)

    /// Finds `key` among the genesis validators, then its observers.
    public init?(nodeKey key: PublicKey, in genesis: Genesis) {
        if let i = genesis.validators.index(of: key.address) {
            self = .validator(index: i, name: genesis.validators.validators[i].name)
        } else if let o = genesis.observers.first(where: { $0.nodeKey == key }) {
            self = .observer(o.role, name: o.name)
        } else {
            return nil
        }
    }

    public var name: String {
        switch self {
        case .validator(_, let name), .observer(_, let name): name
        }
    }

    /// The TLS pin genesis holds for this node (nil for a validator without one).
    public func pin(in genesis: Genesis) -> Hash? {
        switch self {
        case .validator(let i, _): genesis.validators.validators[i].tlsSPKISHA256
        case .observer(_, let name): genesis.observers.first { $0.name == name }?.tlsSPKISHA256
        }
    }

    public var description: String {
        switch self {
        case .validator(let i, let name): "validator \(name) (index \(i))"
        case .observer(let role, let name): "observer \(name) (\(role.name))"
        }
    }
}

/// A node's home directory, loaded and checked: everything the node needs to start.
///
/// Invariant: the node key is a validator's or an observer's in `genesis`, the genesis pins
/// exactly `tls.fingerprint` for it (unless loaded with `checkGenesisPin: false`), the TLS key belongs to the certificate, and the certificate
/// was valid at the `now` it was loaded with.
public struct NodeHome: Sendable {
    public let paths: NodePaths
    public let config: NodeConfig
    public let genesis: Genesis
    public let nodeKey: PrivateKey
    public let tls: NodeTLSIdentity
    public let membership: NodeMembership

    /// Reads `config.toml` in `directory`, then the files it names, and checks them against
    /// each other (see the invariant). `now` is the time the certificate must be valid at.
    /// `checkGenesisPin: false` leaves the pin to the node, which checks it against the pins in
    /// force (governance may have rotated this node's pin since genesis: PROTOCOL.md "Pin rotation").
    public static func load(_ directory: String, now: Date, checkGenesisPin: Bool = true) throws(NodeSetupError) -> NodeHome {
        let configPath = NodePaths.configPath(home: directory)
        let config: NodeConfig
        do { config = try NodeConfig.read(configPath) } catch { throw .config(error) }
        let paths = NodePaths(home: directory, files: config.files)
        let genesis: Genesis
        do { genesis = try GenesisFile.read(paths.genesis) } catch { throw .genesis(error) }
        let nodeKey: PrivateKey
        do { nodeKey = try KeyFile.read(paths.nodeKey) } catch { throw .nodeKey(error) }
        let tls = try loadTLS(paths)
        guard let membership = NodeMembership(nodeKey: nodeKey.publicKey, in: genesis) else {
            throw .notInGenesis(address: nodeKey.publicKey.address.text, genesisPath: paths.genesis)
        }
        if checkGenesisPin { try checkPin(membership, genesis: genesis, tls: tls, paths: paths) }
        guard now >= tls.notValidBefore else { throw .certificateNotYetValid(path: paths.tlsCertificate, notValidBefore: tls.notValidBefore) }
        guard now <= tls.notValidAfter else { throw .certificateExpired(path: paths.tlsCertificate, notValidAfter: tls.notValidAfter) }
        return NodeHome(paths: paths, config: config, genesis: genesis, nodeKey: nodeKey, tls: tls, membership: membership)
    }

    /// The genesis pin for `membership` must be the certificate's SPKI hash.
    static func checkPin(_ membership: NodeMembership, genesis: Genesis, tls: NodeTLSIdentity,
                         paths: NodePaths) throws(NodeSetupError) {
        guard let pin = membership.pin(in: genesis) else {
            throw .notPinned(node: membership.description, fingerprint: tls.fingerprint.hex, genesisPath: paths.genesis)
        }
        guard pin.bytes == tls.fingerprint.bytes else {
            throw .pinMismatch(node: membership.description, pinned: pin.hex, fingerprint: tls.fingerprint.hex,
                               certificatePath: paths.tlsCertificate, genesisPath: paths.genesis)
        }
    }

    static func loadTLS(_ paths: NodePaths) throws(NodeSetupError) -> NodeTLSIdentity {
        let certificate = try readText(paths.tlsCertificate)
        let key = try readText(paths.tlsKey)
        do { return try NodeTLSIdentity(certificatePEM: certificate, privateKeyPEM: key) } catch {
            switch error {
            case .keyDoesNotMatchCertificate: throw .tlsKeyMismatch(keyPath: paths.tlsKey, certificatePath: paths.tlsCertificate)
            case .malformedPrivateKey: throw .invalidTLS(path: paths.tlsKey, why: error.description)
            case .malformedCertificate, .unsupportedKeyType, .generationFailed:
                throw .invalidTLS(path: paths.tlsCertificate, why: error.description)
            }
        }
    }

    static func readText(_ path: String) throws(NodeSetupError) -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw .cannotReadTLS(path: path, why: "no such file") }
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .cannotReadTLS(path: path, why: error.localizedDescription)
        }
    }
}
