import Foundation
import Logging
import Prometheus
import Testing
@testable import NodeHTTP

@Suite("Certificate expiry")
struct CertificateExpiryTests {
    static let now = Date(millis: Fixture.nowMillis)
    static let day: TimeInterval = 86_400

    @Test(arguments: [
        // (seconds until notAfter, days left, severity)
        (400 * day, 400, CertificateExpiry.Severity.fine),
        (31 * day, 31, .fine),
        (30 * day + 1, 30, .warning),       // the warning starts at 30 whole days
        (30 * day, 30, .warning),
        (29.5 * day, 29, .warning),         // floor, not rounding
        (1 * day, 1, .warning),
        (0.5 * day, 0, .warning),           // less than a day, still valid
        (1, 0, .warning),
        (0, 0, .expired),                   // RFC 5280: at notAfter it is gone
        (-1, -1, .expired),
        (-3 * day, -3, .expired),
    ] as [(TimeInterval, Int, CertificateExpiry.Severity)])
    func check(secondsLeft: TimeInterval, daysLeft: Int, severity: CertificateExpiry.Severity) {
        let expiry = CertificateExpiry.check(node: "bank-a-1", notAfter: Self.now.addingTimeInterval(secondsLeft), now: Self.now)
        #expect(expiry.daysLeft == daysLeft)
        #expect(expiry.severity == severity)
        #expect((expiry.message == nil) == (severity == .fine))
    }

    @Test("the warning names the node, the days, the date and the runbook; expired is an error")
    func messages() throws {
        let notAfter = Date(timeIntervalSince1970: 1_798_202_400)  // 2026-12-25T12:40:00Z
        let warning = CertificateExpiry.check(node: "bank-b-2", notAfter: notAfter, now: Self.now)
        #expect(warning.logLevel == .warning)
        #expect(try #require(warning.message) == "TLS certificate of bank-b-2 expires in 24 days (2026-12-25T12:40:00Z); rotate it: docs/OPERATIONS.md#rotating-a-tls-certificate")
        let expired = CertificateExpiry.check(node: "bank-b-2", notAfter: notAfter, now: notAfter)
        #expect(expired.logLevel == .error)
        #expect(try #require(expired.message).contains("expired on 2026-12-25T12:40:00Z"))
        #expect(CertificateExpiry.check(node: "x", notAfter: notAfter, now: notAfter.addingTimeInterval(-100 * Self.day)).logLevel == nil)
    }

    @Test("millisecond inputs give the same answer as dates")
    func millis() {
        let byMillis = CertificateExpiry.check(node: "n", notAfterMillis: Fixture.nowMillis + 45 * 86_400_000 - 1, nowMillis: Fixture.nowMillis)
        #expect(byMillis.daysLeft == 44)
        #expect(byMillis.severity == .fine)
        #expect(CertificateExpiry.check(node: "n", notAfterMillis: 5, nowMillis: 5, warnDays: 30).severity == .expired)
    }

    @Test("the watch records every certificate's days in the gauge")
    func watchSetsGauge() {
        let metrics = NodeMetrics()
        let checks = CertificateExpiry.watch(
            [(node: "bank-a-1", notAfter: Self.now.addingTimeInterval(90 * Self.day)),
             (node: "bank-b-1", notAfter: Self.now.addingTimeInterval(-2 * Self.day))],
            now: Self.now, metrics: metrics, logger: Logger(label: "test"))
        #expect(checks.map(\.severity) == [.fine, .expired])
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(text.contains(#"hansa_tls_certificate_days_left{node="bank-a-1"} 90.0"#))
        #expect(text.contains(#"hansa_tls_certificate_days_left{node="bank-b-1"} -2.0"#))
    }
}
