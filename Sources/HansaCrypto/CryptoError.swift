/// Why a key or signature was refused. Every case says what was wrong in a sentence.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A private key must be 32 bytes, non-zero and below the curve order.
    case invalidPrivateKey(String)
    /// A public key must be a 33-byte compressed SEC 1 point on secp256k1.
    case invalidPublicKey(String)
    /// A signature must be 64 bytes, r‖s, each non-zero and below the curve order.
    case malformedSignature(String)
    /// s above n/2: refused so that every signature has exactly one accepted encoding (BIP 62 rule 5).
    case highS
    /// The signature is well formed but does not verify for that key and message.
    case signatureMismatch

    public var description: String {
        switch self {
        case .invalidPrivateKey(let why): "invalid private key: \(why)"
        case .invalidPublicKey(let why): "invalid public key: \(why)"
        case .malformedSignature(let why): "malformed signature: \(why)"
        case .highS: "signature has a high S value (s > n/2); only low-S signatures are accepted"
        case .signatureMismatch: "signature does not verify for this key and message"
        }
    }
}
