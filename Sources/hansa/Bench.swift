import ArgumentParser
import ChainTypes
import Foundation
import HansaCrypto

/// `hansa bench SUITE`: benchmarks run by scripts/bench (release build). Each prints Hansa's
/// rate next to a reference measured in the same run on the same machine, and the ratio to
/// the goal. Never a pass/fail on wall time.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a benchmark suite (use scripts/bench, which builds in release mode).",
        shouldDisplay: false)

    @Argument(help: "Suite: crypto, ledger, vm, gas, block, network, rpc, load or audit.")
    var suite: String = "crypto"

    @Option(help: "Seconds per measurement.")
    var seconds: Double = 2.0

    @Option(help: "Transactions the ledger benchmark applies (default 1 000 000), or the audit benchmark's chain holds (default 200 000).")
    var transactions: Int?

    @Option(help: "Transactions the ledger benchmark applies among 1 000 000 accounts (default: 200 000 or --transactions if fewer).")
    var largeTransactions: Int?

    @Option(help: "Letters of credit the vm benchmark runs through their lifecycle.")
    var credits: Int = 1_000

    @Option(help: "Trials the gas calibration takes the median of.")
    var trials: Int = 7

    @Option(help: "The store the gas calibration's ledger runs on: memory or leveldb.")
    var store: String = "memory"

    @Option(help: "The letter-of-credit source the vm and gas benchmarks compile.")
    var contract: String = "contracts/letter_of_credit.hc"

    @Option(help: "Senders the network benchmark signs transfers for (200 each).")
    var users: Int = 1_000

    @Option(help: "The network benchmark's genesis max_block_transactions (default: the standard).")
    var blockTransactions: Int?

    @Option(help: "The network benchmark's most transactions in flight at saturation.")
    var window: Int = 8_000

    @Option(help: "The load benchmark: where to write its measurements as CSV (scripts/bench plots them).")
    var plotData: String?

    func run() async throws {
        switch suite {
        case "crypto": cryptoSuite(seconds: seconds)
        case "ledger": try ledgerSuite(transactions: transactions ?? 1_000_000, largeTransactions: largeTransactions)
        case "vm": try vmSuite(seconds: seconds, credits: credits, contractPath: contract)
        case "gas": try gasSuite(trials: trials, store: store, contractPath: contract)
        case "block": try blockSuite(repeats: 5)
        case "audit": try auditSuite(transactions: transactions ?? 200_000)
        case "network": try await networkSuite(seconds: max(seconds, 10), users: users, blockTransactions: blockTransactions, window: window)
        case "rpc":
            try await rpcSuite(seconds: max(seconds, 3), users: users)
            print("")
            try await networkSuite(seconds: max(seconds, 10), users: users, blockTransactions: blockTransactions, window: window, withRPC: true)
        case "load": try await loadSuite(seconds: max(seconds, 10), users: users, window: window, plotData: plotData)
        default: throw CLIError("unknown benchmark suite \(suite); available: crypto, ledger, vm, gas, block, network, rpc, load, audit")
        }
    }
}

/// Runs `body(batch)` repeatedly for about `seconds`; prints and returns operations per second.
func measureRate(_ label: String, seconds: Double, batch: Int, _ body: (Int) -> Void) -> Double {
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

func cryptoSuite(seconds: Double) {
    print("crypto (one thread)")
    let key = try! PrivateKey(secret: SHA256.hash(utf8: "bench key").bytes)
    let digests = (0..<64).map { SHA256.hash(utf8: "message \($0)") }
    let signatures = digests.map { key.sign(digest: $0) }
    let keyBytes = key.publicKey.bytes
    let sigBytes = signatures.map(\.compact)

    let raw: Double = measureRate("raw libsecp256k1 secp256k1_ecdsa_verify (pre-parsed)", seconds: seconds, batch: 200) { n in
        let ok = RawBenchmarks.secp256k1Verify(key: key.publicKey, signature: signatures[0], digest: digests[0], iterations: n)
        precondition(ok == n)
    }
    let wrapped: Double = measureRate("Hansa: parse key + parse signature + verify", seconds: seconds, batch: 200) { n in
        for i in 0..<n {
            let k = try! PublicKey(bytes: keyBytes)
            let s = try! Signature(compact: sigBytes[i & 63])
            precondition(k.verify(s, digest: digests[i & 63]))
        }
    }
    let goal = 0.9
    let ratio = wrapped / raw
    print(String(format: "  verify ratio Hansa/raw = %.3f (goal >= %.2f) ", ratio, goal) + (ratio >= goal ? "OK" : "BELOW GOAL"))

    let input = [UInt8](repeating: 0xab, count: 200)
    let oneShot = measureRate("raw OpenSSL one-shot SHA256(), 200-byte input", seconds: seconds, batch: 5_000) { n in
        _ = RawBenchmarks.oneShotSHA256(input, iterations: n)
    }
    var sink: UInt64 = 0
    let evp = measureRate("Hansa SHA256.hash (fetched EVP_MD, reused ctx), 200 bytes", seconds: seconds, batch: 5_000) { n in
        for _ in 0..<n { sink &+= SHA256.hash(input).w0 }
    }
    print(String(format: "  SHA-256 ratio Hansa/one-shot = %.2f  (%.0f MB/s)", evp / oneShot, evp * 200 / 1e6))
    if sink == 42 { print("") }
}
