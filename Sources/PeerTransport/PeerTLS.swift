import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// TLS for peer links: TLS 1.3 only, both sides present a certificate, ALPN `hansa/1`, and the
/// peer's key pinned by SPKI hash instead of any CA or hostname check.
public enum PeerTLS {
    /// The one ALPN protocol a Hansa peer speaks. A handshake without it is refused.
    public static let alpn = "hansa/1"

    /// The TLS configuration both ends share. `.noHostnameVerification` makes the server ask for
    /// (and require) a client certificate and makes both ends call the custom verification
    /// callback; with `.none` neither would happen (TOOLCHAIN.md).
    static func configuration(identity: NodeTLSIdentity, server: Bool) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(identity.certificatePEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(bytes: Array(identity.privateKeyPEM.utf8), format: .pem)
        var config = server
            ? TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            : TLSConfiguration.makeClientConfiguration()
        config.certificateChain = chain
        config.privateKey = .privateKey(key)
        config.minimumTLSVersion = .tlsv13
        config.maximumTLSVersion = .tlsv13
        config.certificateVerification = .noHostnameVerification
        config.trustRoots = .certificates([])
        config.applicationProtocols = [alpn]
        return config
    }
}

/// Checks the peer's certificate during TLS: its SPKI hash must be in the allow list current
/// at that moment (`LiveAllowList.current`, so a replaced pin is refused) and `now` inside its
/// validity dates. This callback replaces all of BoringSSL's checks (TOOLCHAIN.md), so the
/// dates are checked here. The refusal is kept so the connection reports the typed reason rather
/// than BoringSSL's generic "certificate verify failed".
final class PinnedCertificateVerifier: Sendable {
    let allowed: LiveAllowList
    let now: @Sendable () -> Date
    let logger: Logger
    private let refusalBox = NIOLockedValueBox<PeerTransportError?>(nil)

    init(allowed: LiveAllowList, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.allowed = allowed
        self.now = now
        self.logger = logger
    }

    var refusal: PeerTransportError? { refusalBox.withLockedValue { $0 } }

    func verify(_ certificates: [NIOSSLCertificate], _ promise: EventLoopPromise<NIOSSLVerificationResult>) {
        do {
            try check(certificates)
            promise.succeed(.certificateVerified)
        } catch {
            refusalBox.withLockedValue { $0 = error }
            logger.warning("refusing peer TLS certificate", metadata: ["reason": "\(error)"])
            promise.succeed(.failed)
        }
    }

    private func check(_ certificates: [NIOSSLCertificate]) throws(PeerTransportError) {
        guard let leaf = certificates.first else { throw .noPeerCertificate }
        let spki: SPKIFingerprint
        do { spki = SPKIFingerprint(spkiDER: try leaf.extractPublicKey().toSPKIBytes()) } catch {
            throw .tlsFailed("cannot read the peer certificate's public key: \(error)")
        }
        guard allowed.current.contains(spki) else { throw .notPinned(spki) }
        let nowSeconds = Int(now().timeIntervalSince1970)
        let notBefore = Int(leaf.notValidBefore), notAfter = Int(leaf.notValidAfter)
        guard notBefore <= nowSeconds && nowSeconds <= notAfter else {
            throw .certificateNotValidNow(notBefore: notBefore, notAfter: notAfter, now: nowSeconds)
        }
    }
}

/// The SPKI hash of the peer certificate the TLS handler in `pipeline` accepted.
func peerSPKI(in pipeline: ChannelPipeline.SynchronousOperations) throws(PeerTransportError) -> SPKIFingerprint {
    do {
        guard let cert = try pipeline.handler(type: NIOSSLHandler.self).peerCertificate else {
            throw PeerTransportError.noPeerCertificate
        }
        return SPKIFingerprint(spkiDER: try cert.extractPublicKey().toSPKIBytes())
    } catch let error as PeerTransportError {
        throw error
    } catch {
        throw .tlsFailed("cannot read the peer certificate: \(error)")
    }
}
