import Prometheus
import Testing
@testable import NodeHTTP

@Suite("Node metrics")
struct NodeMetricsTests {
    static func text(_ metrics: NodeMetrics) -> String {
        String(decoding: metrics.exposition(), as: UTF8.self)
    }

    /// The value of the series `series` (name with labels, exactly as exposed).
    static func value(_ text: String, _ series: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return String(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test("every named series is exposed from the start, with help")
    func namesAtStart() {
        let text = Self.text(NodeMetrics())
        for name in ["hansa_height", "hansa_view", "hansa_view_changes_total", "hansa_peers_connected",
                     "hansa_mempool_transactions", "hansa_mempool_bytes", "hansa_commit_latency_seconds",
                     "hansa_block_transactions", "hansa_block_bytes", "hansa_sync_target_height",
                     "hansa_transactions_committed_total"] {
            #expect(text.contains("# TYPE \(name) "), "\(name)")
            #expect(text.contains("# HELP \(name) "), "\(name)")
        }
    }

    @Test("the calls the node makes show in the text")
    func values() {
        let metrics = NodeMetrics()
        metrics.restored(height: 7, view: 1)
        metrics.committed(height: 8, transactions: 120, bytes: 30_000, latencySeconds: 0.3)
        metrics.committed(height: 9, transactions: 0, bytes: 500, latencySeconds: 0.02)
        metrics.viewChanged(to: 2)
        metrics.viewChanged(to: 3)
        metrics.peers(connected: 3)
        metrics.mempool(count: 17, bytes: 4_096)
        metrics.syncTarget(height: 1_000)
        metrics.certificateDaysLeft(node: "bank-a-1", days: 12)
        metrics.invalidMessage(peer: "bank-b-1", reason: "signature")
        metrics.invalidMessage(peer: "bank-b-1", reason: "signature")
        let text = Self.text(metrics)
        let expected: [(String, String)] = [
            ("hansa_height", "9.0"), ("hansa_view", "3.0"), ("hansa_view_changes_total", "2"),
            ("hansa_peers_connected", "3.0"), ("hansa_mempool_transactions", "17.0"), ("hansa_mempool_bytes", "4096.0"),
            ("hansa_sync_target_height", "1000.0"), ("hansa_transactions_committed_total", "120"),
            ("hansa_commit_latency_seconds_count", "2"), (#"hansa_commit_latency_seconds_bucket{le="0.01"}"#, "0"),
            (#"hansa_commit_latency_seconds_bucket{le="0.025"}"#, "1"), (#"hansa_commit_latency_seconds_bucket{le="0.25"}"#, "1"),
            (#"hansa_commit_latency_seconds_bucket{le="0.5"}"#, "2"), (#"hansa_commit_latency_seconds_bucket{le="+Inf"}"#, "2"),
            ("hansa_commit_latency_seconds_sum", "0.32"),
            (#"hansa_block_transactions_bucket{le="0.0"}"#, "1"), (#"hansa_block_transactions_bucket{le="250.0"}"#, "2"),
            ("hansa_block_transactions_sum", "120.0"),
            (#"hansa_block_bytes_bucket{le="1024.0"}"#, "1"), (#"hansa_block_bytes_bucket{le="16384.0"}"#, "1"),
            (#"hansa_block_bytes_bucket{le="65536.0"}"#, "2"),
            (#"hansa_tls_certificate_days_left{node="bank-a-1"}"#, "12.0"),
            (#"hansa_invalid_messages_total{peer="bank-b-1",reason="signature"}"#, "2"),
        ]
        for (series, value) in expected {
            #expect(Self.value(text, series) == value, "\(series)")
        }
    }

    @Test("restoring the view at start is not a view change")
    func restoredIsNotAViewChange() {
        let metrics = NodeMetrics()
        metrics.restored(height: 100, view: 5)
        let text = Self.text(metrics)
        #expect(Self.value(text, "hansa_view") == "5.0")
        #expect(Self.value(text, "hansa_view_changes_total") == "0")
    }

    @Test("distinct peers and reasons are capped; the rest is counted as other")
    func cardinalityCap() {
        let metrics = NodeMetrics(maxPeerLabels: 3, maxReasonLabels: 2)
        for peer in 0..<50 {
            metrics.invalidMessage(peer: "peer-\(peer)", reason: "reason-\(peer % 5)")
        }
        let text = Self.text(metrics)
        let series = text.split(separator: "\n").filter { $0.hasPrefix("hansa_invalid_messages_total{") }
        let peers = Set(series.compactMap { $0.firstMatch(of: /peer="([^"]*)"/).map { String($0.1) } })
        let reasons = Set(series.compactMap { $0.firstMatch(of: /reason="([^"]*)"/).map { String($0.1) } })
        #expect(peers == ["peer-0", "peer-1", "peer-2", "other"])
        #expect(reasons == ["reason-0", "reason-1", "other"])
        #expect(series.count <= 4 * 3)
        let total = series.compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }.reduce(0, +)
        #expect(total == 50, "nothing is lost by folding")
        // A peer admitted before the cap keeps its own series.
        metrics.invalidMessage(peer: "peer-1", reason: "reason-1")
        #expect(Self.value(Self.text(metrics), #"hansa_invalid_messages_total{peer="peer-1",reason="reason-1"}"#) == "2")
    }

    @Test("certificate node labels are capped too")
    func nodeLabelCap() {
        let metrics = NodeMetrics(maxNodeLabels: 2)
        for node in 0..<10 { metrics.certificateDaysLeft(node: "node-\(node)", days: node) }
        let lines = Self.text(metrics).split(separator: "\n").filter { $0.hasPrefix("hansa_tls_certificate_days_left{") }
        #expect(lines.count == 3)
        #expect(lines.contains { $0.contains(#"node="other""#) })
    }

    @Test("two NodeMetrics have separate registries")
    func separateRegistries() {
        let first = NodeMetrics()
        let second = NodeMetrics()
        first.peers(connected: 9)
        #expect(Self.value(Self.text(second), "hansa_peers_connected") == "0.0")
    }
}
