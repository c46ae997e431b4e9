import COpenSSL
import CSecp256k1

/// Loops that call the C libraries directly, with nothing of Hansa's in the way: the
/// reference that `scripts/bench crypto` divides the wrapper's rates by. They live here
/// because only this module may touch the libraries' pointers.
public enum RawBenchmarks {
    /// Verifies one pre-parsed (key, signature, digest) triple `iterations` times with
    /// `secp256k1_ecdsa_verify`; returns how many verified (all, if the inputs are valid).
    public static func secp256k1Verify(key: PublicKey, signature: Signature, digest: Digest32, iterations: Int) -> Int {
        var pubkey = ParsedKeyCache.parse(key.bytes)!
        var sig = signature.parsed
        let message = digest.bytes
        var ok = 0
        message.withUnsafeBufferPointer { msg in
            for _ in 0..<iterations {
                ok += Int(secp256k1_ecdsa_verify(Secp256k1Context.shared.raw, &sig, msg.baseAddress!, &pubkey))
            }
        }
        return ok
    }

    /// Hashes `input` `iterations` times with OpenSSL's one-shot `SHA256()`; returns the
    /// first byte of the last digest (so the loop cannot be optimised away).
    public static func oneShotSHA256(_ input: [UInt8], iterations: Int) -> UInt8 {
        var out = [UInt8](repeating: 0, count: 32)
        input.withUnsafeBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { o in
                for _ in 0..<iterations { _ = COpenSSL.SHA256(inp.baseAddress, inp.count, o.baseAddress) }
            }
        }
        return out[0]
    }
}
