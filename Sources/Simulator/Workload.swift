import ChainTypes
import PBFT

/// The clients of a run: what they submit and when. The cluster offers every transaction to
/// every replica that is up, retransmits what no honest replica committed, and offers again
/// what a replica refused (`Cluster.submit`, `resubmitPending`, `retryRefused`).
protocol SimWorkload: AnyObject {
    /// New transactions at `tick`, in the order to submit them.
    func transactions(at tick: Int, in cluster: Cluster) -> [Transaction]
    /// Whether the clients' own goal has run its course (reached or failed for good): until
    /// then a run that has healed goes on.
    var finished: Bool { get }
    /// Why the goal is not reached when the run gives up waiting for it.
    func unfinished(_ cluster: Cluster) -> String
    /// At the end of a run that passed: failures of the clients' goal.
    func finalFailures(_ cluster: Cluster) -> [String]
    /// What the clients achieved, in words, or nil.
    var summary: String? { get }
}

/// The fast mode's clients: a transaction every `SimConfig.submitIntervalTicks`, from one
/// client key with nonces counting up (the stand-in application checks no nonces), signed
/// when the run signs with secp256k1.
final class RequestClient: SimWorkload {
    func transactions(at tick: Int, in cluster: Cluster) -> [Transaction] {
        guard tick % cluster.config.submitIntervalTicks == 0 else { return [] }
        let n = cluster.submittedCount
        let body = TransactionBody(chain: cluster.chain, sender: ProtocolKeys.clientKey.publicKey, nonce: UInt64(n),
                                   kind: .transfer, payload: Array("request \(n)".utf8), gasLimit: 0)
        return [cluster.config.realCrypto ? body.signed(with: ProtocolKeys.clientKey) : Transaction(body: body, signature: ProtocolKeys.dummySignature)]
    }

    var finished: Bool { true }
    func unfinished(_ cluster: Cluster) -> String { "" }
    func finalFailures(_ cluster: Cluster) -> [String] { [] }
    var summary: String? { nil }
}
