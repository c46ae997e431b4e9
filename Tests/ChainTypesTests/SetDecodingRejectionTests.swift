import Testing
import ChainTypes
import HansaCrypto

/// Certificates and genesis hold sets: each must be strictly ascending by its key so that the
/// same content has one encoding; nested records report their full field path.
@Suite("Decoder rejections: certificates and genesis")
struct SetDecodingRejectionTests {
    static let certificateCases: [Rejection] = {
        let cert = Fixture.certificate(indices: [0, 2, 3])
        let l = Layout.certificate(cert)
        func c(_ name: String, _ layout: Layout, _ field: String, _ e: Rejection.Expected) -> Rejection {
            Rejection(name: name, kind: .certificate, bytes: layout.bytes, field: "CommitCertificate." + field,
                      offset: layout.offset(of: field), expected: e)
        }
        var unsorted = cert
        unsorted.signers = [cert.signers[1], cert.signers[0], cert.signers[2]]   // 2, 0, 3
        var duplicate = cert
        duplicate.signers = [cert.signers[0], cert.signers[1], cert.signers[1]]  // 0, 2, 2
        var duplicateFirst = cert
        duplicateFirst.signers = [cert.signers[0], cert.signers[0]]              // 0, 0
        return [
            c("signers unsorted", Layout.certificate(unsorted), "signers[1]", .reason(.notStrictlyAscending)),
            c("signer listed twice", Layout.certificate(duplicate), "signers[2]", .reason(.notStrictlyAscending)),
            c("signer 0 listed twice", Layout.certificate(duplicateFirst), "signers[1]", .reason(.notStrictlyAscending)),
            c("signer index 256", l.replacing("signers[0].validator_index", with: [0x80, 0x02]),
              "signers[0].validator_index", .reason(.integerOverflow(maximum: 255))),
            c("signer index padded", l.replacing("signers[1].validator_index", with: paddedUVarint(2)),
              "signers[1].validator_index", .reason(.nonCanonicalInteger)),
            c("257 signers", l.replacing("signers", with: Layout.enc { $0.uvarint(Limits.maxValidators + 1) }),
              "signers", .reason(.lengthExceedsLimit(length: UInt64(Limits.maxValidators + 1), limit: Limits.maxValidators))),
            c("high-S signature", l.replacing("signers[1].signature", with: DecoderRejectionTests.highS(cert.signers[1].signature)),
              "signers[1].signature", .reason(.highS)),
            c("height padded", l.replacing("height", with: paddedUVarint(7)), "height", .reason(.nonCanonicalInteger)),
            c("version 2", l.replacing("version", with: [2]), "version", .reason(.unknownVersion(2))),
            c("a vote's type tag", l.replacing("type", with: [0x04]), "type", .reason(.unexpectedType(found: 0x04, expected: 0x05))),
        ]
    }()

    @Test("commit certificate", arguments: certificateCases)
    func certificate(_ r: Rejection) { r.check() }

    static let genesisCases: [Rejection] = {
        let g = GenesisFixture.valid()
        let l = Layout.genesis(g)
        func c(_ name: String, _ layout: Layout, _ field: String, _ e: Rejection.Expected) -> Rejection {
            Rejection(name: name, kind: .genesis, bytes: layout.bytes, field: "Genesis." + field,
                      offset: layout.offset(of: field), expected: e)
        }
        let noTLS = g.validators.validators.firstIndex { $0.tlsSPKISHA256 == nil }!
        let exporter = GenesisFixture.participant("exporter-co", in: g)
        let auditor = GenesisFixture.participant("auditor_1", in: g)
        let usd = GenesisFixture.currency("USD", in: g)

        var participantsSwapped = g.participants
        participantsSwapped.swapAt(1, 2)
        var participantTwice = g
        participantTwice.participants[2] = participantTwice.participants[1]
        var issuersReversed = g
        issuersReversed.currencies[usd].issuers.reverse()
        var currenciesSwapped = g.currencies
        currenciesSwapped.swapAt(0, 1)
        let auditorNode = GenesisFixture.observer("auditor-node", in: g)
        var observersSwapped = g.observers
        observersSwapped.swapAt(0, 1)
        var observerTwice = g
        observerTwice.observers[1] = observerTwice.observers[0]
        var depositTwice = g
        depositTwice.deposits[1] = depositTwice.deposits[0]

        return [
            c("chain id of 65 bytes", l.replacing("chain", with: Layout.enc { $0.string(String(repeating: "b", count: 65)) }),
              "chain", .reason(.lengthExceedsLimit(length: 65, limit: 64))),
            c("257 validators", l.replacing("validators", with: Layout.enc { $0.uvarint(Limits.maxValidators + 1) }),
              "validators", .reason(.lengthExceedsLimit(length: 257, limit: Limits.maxValidators))),
            c("no validators", Layout.genesis(g, validators: []), "validators",
              .invalidValue(containing: "1 to \(Limits.maxValidators) validators")),
            c("validators out of order", Layout.genesis(g, validators: g.validators.validators.reversed()),
              "validators[1]", .reason(.notStrictlyAscending)),
            c("validator listed twice", Layout.genesis(g, validators: [g.validators.validators[0], g.validators.validators[0]]),
              "validators[1]", .reason(.notStrictlyAscending)),
            c("validator name of 65 bytes",
              l.replacing("validators[0].name", with: Layout.enc { $0.string(String(repeating: "n", count: 65)) }),
              "validators[0].name", .reason(.lengthExceedsLimit(length: 65, limit: Limits.maxNameBytes))),
            c("validator name not UTF-8", l.replacing("validators[0].name", with: [3, 0x61, 0xff, 0x62]),
              "validators[0].name", .reason(.invalidUTF8)),
            c("p2p address of 256 bytes",
              l.replacing("validators[2].p2p_address", with: Layout.enc { $0.string(String(repeating: "h", count: 256)) }),
              "validators[2].p2p_address", .reason(.lengthExceedsLimit(length: 256, limit: Limits.maxP2PAddressBytes))),
            c("validator key off the curve", l.replacing("validators[1].public_key", with: DecoderRejectionTests.offCurveKey),
              "validators[1].public_key", .invalidValue(containing: "not the coordinate of a point")),
            c("TLS flag byte 2", l.replacing("validators[\(noTLS)].tls_spki_sha256", with: [2]),
              "validators[\(noTLS)].tls_spki_sha256", .reason(.invalidBoolean(2))),
            c("participants out of order", Layout.genesis(g, participants: participantsSwapped), "participants[2]", .reason(.notStrictlyAscending)),
            c("participant listed twice", Layout.genesis(participantTwice), "participants[2]", .reason(.notStrictlyAscending)),
            c("role 0", l.replacing("participants[0].role", with: [0]), "participants[0].role", .reason(.unknownTag(0))),
            c("role 9", l.replacing("participants[3].role", with: [9]), "participants[3].role", .reason(.unknownTag(9))),
            c("bank flag byte 2", l.replacing("participants[\(auditor)].bank", with: [2]),
              "participants[\(auditor)].bank", .reason(.invalidBoolean(2))),
            c("bank flag byte 0xff", l.replacing("participants[\(exporter)].bank", with: [0xff] + g.participants[exporter].bank!.bytes),
              "participants[\(exporter)].bank", .reason(.invalidBoolean(0xff))),
            c("participant name not UTF-8", l.replacing("participants[1].name", with: [2, 0xed, 0xa0]),
              "participants[1].name", .reason(.invalidUTF8)),
            c("currency code in lowercase", l.replacing("currencies[0].code", with: Array("usd".utf8)),
              "currencies[0].code", .invalidValue(containing: "three uppercase letters")),
            c("19 decimals", l.replacing("currencies[1].decimals", with: [19]), "currencies[1].decimals",
              .reason(.integerOverflow(maximum: 18))),
            c("issuers out of order", Layout.genesis(issuersReversed), "currencies[\(usd)].issuers[1]", .reason(.notStrictlyAscending)),
            c("257 issuers", l.replacing("currencies[0].issuers", with: Layout.enc { $0.uvarint(Limits.maxValidators + 1) }),
              "currencies[0].issuers", .reason(.lengthExceedsLimit(length: 257, limit: Limits.maxValidators))),
            c("currencies out of order", Layout.genesis(g, currencies: currenciesSwapped), "currencies[1]", .reason(.notStrictlyAscending)),
            c("deposit listed twice", Layout.genesis(depositTwice), "deposits[1]", .reason(.notStrictlyAscending)),
            c("deposit amount padded", l.replacing("deposits[2].amount", with: paddedUVarint(g.deposits[2].amount)),
              "deposits[2].amount", .reason(.nonCanonicalInteger)),
            c("tick padded", l.replacing("consensus.tick_ms", with: paddedUVarint(g.consensus.tickMillis)),
              "consensus.tick_ms", .reason(.nonCanonicalInteger)),
            c("clock drift padded", l.replacing("consensus.max_clock_drift_ms", with: paddedUVarint(g.consensus.maxClockDriftMillis)),
              "consensus.max_clock_drift_ms", .reason(.nonCanonicalInteger)),
            c("governance threshold padded", l.replacing("governance_threshold", with: paddedUVarint(3)),
              "governance_threshold", .reason(.nonCanonicalInteger)),
            c("block gas padded", l.replacing("consensus.max_block_gas", with: paddedUVarint(g.consensus.maxBlockGas)),
              "consensus.max_block_gas", .reason(.nonCanonicalInteger)),
            c("observers out of order", Layout.genesis(g, observers: observersSwapped), "observers[1]", .reason(.notStrictlyAscending)),
            c("observer listed twice", Layout.genesis(observerTwice), "observers[1]", .reason(.notStrictlyAscending)),
            c("65 observers", l.replacing("observers", with: Layout.enc { $0.uvarint(Limits.maxObservers + 1) }),
              "observers", .reason(.lengthExceedsLimit(length: UInt64(Limits.maxObservers + 1), limit: Limits.maxObservers))),
            c("observer role 0", l.replacing("observers[0].role", with: [0]), "observers[0].role", .reason(.unknownTag(0))),
            c("observer role 4", l.replacing("observers[1].role", with: [4]), "observers[1].role", .reason(.unknownTag(4))),
            c("observer bank flag byte 2", l.replacing("observers[\(auditorNode)].bank", with: [2]),
              "observers[\(auditorNode)].bank", .reason(.invalidBoolean(2))),
            c("observer node key off the curve", l.replacing("observers[0].node_key", with: DecoderRejectionTests.offCurveKey),
              "observers[0].node_key", .invalidValue(containing: "not the coordinate of a point")),
            c("version 1 (before the block work limits)", l.replacing("version", with: [1]), "version", .reason(.unknownVersion(1))),
            c("version 2 (certificate pins, no observers)", l.replacing("version", with: [2]), "version", .reason(.unknownVersion(2))),
            c("version 4", l.replacing("version", with: [4]), "version", .reason(.unknownVersion(4))),
        ]
    }()

    @Test("genesis", arguments: genesisCases)
    func genesis(_ r: Rejection) { r.check() }

    @Test func genesisTrailingBytes() {
        let bytes = GenesisFixture.valid().canonicalBytes
        Rejection(name: "trailing", kind: .genesis, bytes: bytes + [1, 2, 3], field: "Genesis", offset: bytes.count,
                  expected: .reason(.trailingBytes(count: 3))).check()
    }
}
