import ChainTypes
import Foundation
import HansaCrypto

// Benchmarks for scripts/bench. Each prints Hansa's rate next to a reference measured in the
// same run on the same machine, and the ratio to the goal. Never a pass/fail on wall time.

let args = CommandLine.arguments.dropFirst()
let suite = args.first ?? "crypto"
let seconds = Double(ProcessInfo.processInfo.environment["BENCH_SECONDS"] ?? "") ?? 2.0

/// Runs `body(batch)` repeatedly for about `seconds`; returns operations per second.
func rate(_ label: String, batch: Int, _ body: (Int) -> Void) -> Double {
    body(batch) // warm-up: caches, page faults, lazy initialisation
    let clock = ContinuousClock()
    var done = 0
    let start = clock.now
    var elapsed = Duration.zero
    while elapsed < .milliseconds(Int(seconds * 1000)) {
        body(batch)
        done += batch
        elapsed = clock.now - start
    }
    let perSecond = Double(done) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    print("  " + label.padding(toLength: 62, withPad: " ", startingAt: 0) + String(format: "%12.0f /s", perSecond))
    return perSecond
}

func cryptoSuite() {
    print("crypto (one thread)")
    let key = try! PrivateKey(secret: SHA256.hash(utf8: "bench key").bytes)
    let digests = (0..<64).map { SHA256.hash(utf8: "message \($0)") }
    let signatures = digests.map { key.sign(digest: $0) }
    let keyBytes = key.publicKey.bytes
    let sigBytes = signatures.map(\.compact)

    let raw: Double = rate("raw libsecp256k1 secp256k1_ecdsa_verify (pre-parsed)", batch: 200) { n in
        let ok = RawBenchmarks.secp256k1Verify(key: key.publicKey, signature: signatures[0], digest: digests[0], iterations: n)
        precondition(ok == n)
    }
    let wrapped: Double = rate("Hansa: parse key + parse signature + verify", batch: 200) { n in
        for i in 0..<n {
            let k = try! PublicKey(bytes: keyBytes)
            let s = try! Signature(compact: sigBytes[i & 63])
            precondition(k.verify(s, digest: digests[i & 63]))
        }
    }
    let goal = 0.9
    print(String(format: "  verify ratio Hansa/raw = %.3f (goal ≥ %.2f) %@", wrapped / raw, goal,
                 (wrapped / raw >= goal ? "OK" : "BELOW GOAL") as NSString))

    let input = [UInt8](repeating: 0xab, count: 200)
    let oneShot = rate("raw OpenSSL one-shot SHA256(), 200-byte input", batch: 5_000) { n in
        _ = RawBenchmarks.oneShotSHA256(input, iterations: n)
    }
    var sink: UInt64 = 0
    let evp = rate("Hansa SHA256.hash (fetched EVP_MD, reused ctx), 200 bytes", batch: 5_000) { n in
        for _ in 0..<n { sink &+= SHA256.hash(input).w0 }
    }
    print(String(format: "  SHA-256 ratio Hansa/one-shot = %.2f  (%.0f MB/s)", evp / oneShot, evp * 200 / 1e6))
    if sink == 42 { print("") }
}


switch suite {
case "crypto": cryptoSuite()
default:
    FileHandle.standardError.write(Data("unknown benchmark suite \(suite); available: crypto\n".utf8))
    exit(2)
}
