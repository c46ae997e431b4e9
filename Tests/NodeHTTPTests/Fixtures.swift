@testable import NodeHTTP

/// A healthy validator of a 4-validator chain, at a fixed `now`.
enum Fixture {
    /// 2026-12-01T12:00:00Z.
    static let nowMillis: Int64 = 1_796_126_400_000

    static func validator(_ change: (inout NodeStatus) -> Void = { _ in }) -> NodeStatus {
        var status = NodeStatus(
            role: .validator, nodeName: "bank-a-1", chainID: "hansa-test", height: 42,
            headHashHex: String(repeating: "ab", count: 32), view: 3, primaryIndex: 3,
            peersConnected: 4, peersExpected: 4, validatorPeersConnected: 3, validatorCount: 4,
            syncing: false, syncTargetHeight: nil, lastCommitMillis: nowMillis - 1_000,
            mempoolTransactions: 5, mempoolBytes: 1_200, uptimeSeconds: 3_600, version: "0.1.0-test")
        change(&status)
        return status
    }

    static func observer(_ change: (inout NodeStatus) -> Void = { _ in }) -> NodeStatus {
        validator {
            $0.role = .observer
            $0.nodeName = "auditor-1"
            $0.primaryIndex = nil
            change(&$0)
        }
    }
}
