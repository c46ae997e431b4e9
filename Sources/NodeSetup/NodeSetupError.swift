import Foundation
import HansaConfig

/// Why a node's home directory could not be prepared (`hansa node init`) or loaded (the node
/// at start). Each case prints as one sentence that names the file at fault.
public enum NodeSetupError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `config.toml` is missing, unreadable or invalid (the ConfigError names file and field).
    case config(ConfigError)
    /// The genesis file is missing, unreadable, edited or invalid.
    case genesis(ConfigError)
    /// The node's secp256k1 key file is missing, readable by others or malformed.
    case nodeKey(ConfigError)
    /// A TLS key or certificate file is missing or unreadable.
    case cannotReadTLS(path: String, why: String)
    /// A TLS key or certificate file is not a usable PEM P-256 key or certificate.
    case invalidTLS(path: String, why: String)
    /// The TLS private key does not belong to the certificate.
    case tlsKeyMismatch(keyPath: String, certificatePath: String)
    /// The node key is neither a validator's nor an observer's in the genesis.
    case notInGenesis(address: String, genesisPath: String)
    /// The genesis holds no TLS pin for this node.
    case notPinned(node: String, fingerprint: String, genesisPath: String)
    /// The genesis pins another TLS key than the certificate's.
    case pinMismatch(node: String, pinned: String, fingerprint: String, certificatePath: String, genesisPath: String)
    case certificateExpired(path: String, notValidAfter: Date)
    case certificateNotYetValid(path: String, notValidBefore: Date)
    /// `hansa node init` found files it would replace, and `--force` was not given.
    case refusingToOverwrite(home: String, existing: [String])
    case cannotWrite(path: String, why: String)

    public var description: String {
        switch self {
        case .config(let e): "the node configuration cannot be used: \(e)"
        case .genesis(let e): "the genesis cannot be used: \(e)"
        case .nodeKey(let e): "the node key cannot be used: \(e)"
        case .cannotReadTLS(let path, let why): "\(path): cannot read the TLS file: \(why)"
        case .invalidTLS(let path, let why): "\(path): \(why)"
        case .tlsKeyMismatch(let key, let cert): "\(key): the TLS private key does not belong to the certificate \(cert)"
        case .notInGenesis(let address, let genesis):
            "\(genesis): the node key \(address) is neither a validator's nor an observer's in this genesis"
        case .notPinned(let node, let fingerprint, let genesis):
            "\(genesis): \(node) has no tls_spki_sha256; the genesis must pin this node's TLS key \(fingerprint)"
        case .pinMismatch(let node, let pinned, let fingerprint, let cert, let genesis):
            "\(cert): the certificate's SPKI SHA-256 is \(fingerprint) but \(genesis) pins \(pinned) for \(node)"
        case .certificateExpired(let path, let after):
            "\(path): the TLS certificate expired at \(Self.iso(after)); renew it with the same key (the pin stays valid)"
        case .certificateNotYetValid(let path, let before):
            "\(path): the TLS certificate is not valid before \(Self.iso(before)); check this machine's clock"
        case .refusingToOverwrite(let home, let existing):
            "\(home) already holds \(existing.joined(separator: ", ")); pass --force to replace them (a new TLS key needs a new pin in genesis)"
        case .cannotWrite(let path, let why): "\(path): cannot write: \(why)"
        }
    }

    static func iso(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}
