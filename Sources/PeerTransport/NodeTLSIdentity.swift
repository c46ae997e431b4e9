import Crypto
import Foundation
import HansaCrypto
import SwiftASN1
import X509

/// The SHA-256 of a DER-encoded SubjectPublicKeyInfo: the pin genesis holds for a node's TLS key.
///
/// Pinning the key (not the certificate) lets a node renew its certificate with the same key
/// without a governance change. Invariant: `bytes` is exactly 32 bytes.
public struct SPKIFingerprint: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 32
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// Parses the 64 hex digits genesis carries.
    public init?(hex: String) {
        guard let raw = Hex.decode(hex) else { return nil }
        self.init(bytes: raw)
    }

    /// The fingerprint of `spkiDER`, a whole DER SubjectPublicKeyInfo (algorithm and key).
    public init(spkiDER: [UInt8]) {
        self.bytes = Array(Crypto.SHA256.hash(data: spkiDER))
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
}

/// A node's TLS identity: a P-256 key and a self-signed X.509 certificate for it, made in Swift.
///
/// P-256 rather than Ed25519: every TLS 1.3 stack offers ecdsa_secp256r1_sha256, while older
/// default signature-algorithm lists omit Ed25519. The certificate carries no trust of its own:
/// peers trust the key because genesis pins its `fingerprint`.
/// Invariant: the private key belongs to the certificate's public key.
public struct NodeTLSIdentity: Sendable {
    public let certificatePEM: String
    public let privateKeyPEM: String
    /// SHA-256 of the certificate's SubjectPublicKeyInfo, as genesis pins it.
    public let fingerprint: SPKIFingerprint
    public let notValidBefore: Date
    public let notValidAfter: Date

    /// How long a generated certificate is valid unless told otherwise (two years).
    public static let defaultValiditySeconds: TimeInterval = 2 * 365 * 24 * 3600

    /// Makes a fresh key and a self-signed certificate valid from `now` (minus an hour of clock
    /// skew) for `validitySeconds`.
    public static func generate(commonName: String, now: Date,
                                validitySeconds: TimeInterval = defaultValiditySeconds) throws(TLSIdentityError) -> NodeTLSIdentity {
        let key = P256.Signing.PrivateKey()
        let certKey = Certificate.PrivateKey(key)
        let notBefore = now.addingTimeInterval(-3600)
        let notAfter = now.addingTimeInterval(validitySeconds)
        do {
            let name = try DistinguishedName { CommonName(commonName) }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: certKey.publicKey,
                notValidBefore: notBefore,
                notValidAfter: notAfter,
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth, .clientAuth])
                },
                issuerPrivateKey: certKey)
            return try NodeTLSIdentity(certificatePEM: certificate.serializeAsPEM().pemString,
                                       privateKeyPEM: certKey.serializeAsPEM().pemString)
        } catch let error as TLSIdentityError {
            throw error
        } catch {
            throw .generationFailed(String(describing: error))
        }
    }

    /// Loads a certificate and key from PEM (as `hansa node init` writes them), checking that
    /// the key belongs to the certificate.
    public init(certificatePEM: String, privateKeyPEM: String) throws(TLSIdentityError) {
        let certificate: Certificate
        let key: Certificate.PrivateKey
        do { certificate = try Certificate(pemEncoded: certificatePEM) } catch {
            throw .malformedCertificate(String(describing: error))
        }
        do { key = try Certificate.PrivateKey(pemEncoded: privateKeyPEM) } catch {
            throw .malformedPrivateKey(String(describing: error))
        }
        guard key.publicKey == certificate.publicKey else { throw .keyDoesNotMatchCertificate }
        guard P256.Signing.PublicKey(certificate.publicKey) != nil else {
            throw .unsupportedKeyType(String(describing: certificate.publicKey))
        }
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
        self.fingerprint = try Self.fingerprint(of: certificate)
        self.notValidBefore = certificate.notValidBefore
        self.notValidAfter = certificate.notValidAfter
    }

    /// SHA-256 over the certificate's whole DER SubjectPublicKeyInfo (the same bytes BoringSSL's
    /// `i2d_PUBKEY` gives, which the TLS verifier hashes).
    static func fingerprint(of certificate: Certificate) throws(TLSIdentityError) -> SPKIFingerprint {
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate.publicKey)
            return SPKIFingerprint(spkiDER: serializer.serializedBytes)
        } catch {
            throw .malformedCertificate("cannot serialize its public key: \(error)")
        }
    }
}

/// Why a TLS identity could not be made or loaded.
public enum TLSIdentityError: Error, Equatable, Sendable, CustomStringConvertible {
    case generationFailed(String)
    case malformedCertificate(String)
    case malformedPrivateKey(String)
    case keyDoesNotMatchCertificate
    case unsupportedKeyType(String)

    public var description: String {
        switch self {
        case .generationFailed(let why): "cannot generate a TLS certificate: \(why)"
        case .malformedCertificate(let why): "the TLS certificate is not a readable PEM X.509 certificate: \(why)"
        case .malformedPrivateKey(let why): "the TLS private key is not a readable PEM key: \(why)"
        case .keyDoesNotMatchCertificate: "the TLS private key does not belong to the certificate"
        case .unsupportedKeyType(let key): "the TLS certificate's key is not P-256: \(key)"
        }
    }
}
