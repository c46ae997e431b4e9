import Foundation
import Logging

/// How close a TLS certificate is to its `notAfter`, and what the log should say about it.
///
/// Computed by ``CertificateExpiry/check(node:notAfter:now:warnDays:)``, a pure function: the
/// node calls it at start and then daily, logs ``message`` at ``logLevel`` when it is set, and
/// feeds ``daysLeft`` to ``NodeMetrics/certificateDaysLeft(node:days:)``.
public struct CertificateExpiry: Sendable, Equatable {
    /// How loud the check is.
    public enum Severity: String, Sendable, Equatable {
        /// More than `warnDays` left: nothing to log.
        case fine
        /// `warnDays` or fewer days left: a warning, every day until rotated.
        case warning
        /// `notAfter` has passed: peers refuse the certificate; an error.
        case expired
    }

    /// The node whose certificate this is (its name in the genesis).
    public var node: String
    public var notAfter: Date
    /// Whole days from `now` to `notAfter`, rounded down (negative once expired).
    public var daysLeft: Int
    public var severity: Severity

    /// Days before `notAfter` at which the warning starts.
    public static let defaultWarnDays = 30
    /// Where the rotation procedure is written down; every line points there.
    public static let rotationDoc = "docs/OPERATIONS.md#rotating-a-tls-certificate"

    /// The log line, or nil when there is nothing to say.
    public var message: String? {
        let date = notAfter.formatted(.iso8601)
        switch severity {
        case .fine:
            return nil
        case .warning:
            let days = daysLeft == 1 ? "1 day" : "\(daysLeft) days"
            return "TLS certificate of \(node) expires in \(days) (\(date)); rotate it: \(Self.rotationDoc)"
        case .expired:
            return "TLS certificate of \(node) expired on \(date); peers refuse it; rotate it: \(Self.rotationDoc)"
        }
    }

    /// The level ``message`` is logged at: warning, or error once expired.
    public var logLevel: Logger.Level? {
        switch severity {
        case .fine: nil
        case .warning: .warning
        case .expired: .error
        }
    }

    /// Checks one certificate against `now`. Expired means `now ≥ notAfter` (RFC 5280 §4.1.2.5:
    /// notAfter is the last instant the certificate is valid, so at it we already call it gone).
    public static func check(node: String, notAfter: Date, now: Date,
                             warnDays: Int = defaultWarnDays) -> CertificateExpiry {
        let seconds = notAfter.timeIntervalSince(now)
        let daysLeft = Int((seconds / 86_400).rounded(.down))
        let severity: Severity = seconds <= 0 ? .expired : (daysLeft <= warnDays ? .warning : .fine)
        return CertificateExpiry(node: node, notAfter: notAfter, daysLeft: daysLeft, severity: severity)
    }

    /// The same check with times as milliseconds since 1970-01-01T00:00:00Z.
    public static func check(node: String, notAfterMillis: Int64, nowMillis: Int64,
                             warnDays: Int = defaultWarnDays) -> CertificateExpiry {
        check(node: node, notAfter: Date(millis: notAfterMillis), now: Date(millis: nowMillis), warnDays: warnDays)
    }

    /// The shell around the check: logs each certificate's line at its level and records its
    /// days left in `metrics`. Returns the checks, for the caller to test or print.
    @discardableResult
    public static func watch(_ certificates: [(node: String, notAfter: Date)], now: Date,
                             warnDays: Int = defaultWarnDays, metrics: NodeMetrics?,
                             logger: Logger) -> [CertificateExpiry] {
        certificates.map { certificate in
            let expiry = check(node: certificate.node, notAfter: certificate.notAfter, now: now, warnDays: warnDays)
            metrics?.certificateDaysLeft(node: expiry.node, days: expiry.daysLeft)
            if let message = expiry.message, let level = expiry.logLevel {
                logger.log(level: level, "\(message)",
                           metadata: ["node": "\(expiry.node)", "days_left": "\(expiry.daysLeft)"])
            }
            return expiry
        }
    }
}

extension Date {
    init(millis: Int64) {
        self.init(timeIntervalSince1970: Double(millis) / 1000)
    }
}
