import Foundation
import NIOSSL
import Testing
@testable import PeerTransport

@Suite("NodeTLSIdentity: a P-256 key and self-signed certificate made in Swift")
struct NodeTLSIdentityTests {
    @Test("PEM round trip keeps the certificate, the key and the fingerprint")
    func pemRoundTrip() throws {
        let made = Fixture.alice.tls
        let loaded = try NodeTLSIdentity(certificatePEM: made.certificatePEM, privateKeyPEM: made.privateKeyPEM)
        #expect(loaded.fingerprint == made.fingerprint)
        #expect(loaded.certificatePEM == made.certificatePEM)
        #expect(made.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(made.privateKeyPEM.contains("PRIVATE KEY-----"))
    }

    @Test("the fingerprint is SHA-256 of the SPKI bytes BoringSSL reads from the certificate")
    func fingerprintMatchesBoringSSL() throws {
        // The TLS verifier hashes NIOSSL's SPKI; genesis holds this identity's. They must agree.
        let cert = try NIOSSLCertificate(bytes: Array(Fixture.alice.tls.certificatePEM.utf8), format: .pem)
        let seenByTLS = SPKIFingerprint(spkiDER: try cert.extractPublicKey().toSPKIBytes())
        #expect(seenByTLS == Fixture.alice.tls.fingerprint)
    }

    @Test("the fingerprint is 64 hex digits that parse back; two keys never share one")
    func fingerprintHex() {
        let hex = Fixture.alice.tls.fingerprint.hex
        #expect(hex.count == 64)
        #expect(SPKIFingerprint(hex: hex) == Fixture.alice.tls.fingerprint)
        #expect(Fixture.alice.tls.fingerprint != Fixture.bob.tls.fingerprint)
    }

    @Test("the certificate is valid from now (minus an hour of skew) for the asked period")
    func validity() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let id = try NodeTLSIdentity.generate(commonName: "v", now: now, validitySeconds: 86_400)
        #expect(id.notValidBefore == now.addingTimeInterval(-3600))
        #expect(id.notValidAfter == now.addingTimeInterval(86_400))
    }

    @Test("a key that is not the certificate's is refused")
    func mismatchedKey() {
        #expect(throws: TLSIdentityError.keyDoesNotMatchCertificate) {
            try NodeTLSIdentity(certificatePEM: Fixture.alice.tls.certificatePEM, privateKeyPEM: Fixture.bob.tls.privateKeyPEM)
        }
    }

    @Test("garbage PEM is refused with a reason")
    func garbage() {
        #expect {
            try NodeTLSIdentity(certificatePEM: "not a certificate", privateKeyPEM: Fixture.alice.tls.privateKeyPEM)
        } throws: { error in
            if case .malformedCertificate = error as? TLSIdentityError { true } else { false }
        }
    }
}
