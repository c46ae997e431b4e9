import ChainTypes
import ContractVM
import Ledger
import Testing

@Suite("Letter of credit: smoke")
struct LetterOfCreditSmokeTests {
    @Test("UCP 600 Art. 7, 15(a): a complying presentation under a sight credit pays at once")
    func sightHappyPath() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        #expect(try chain.balance(credit.address) == 100_000_00)
        #expect(try chain.balance(chain.importer) == TradeChain.importerFunds - 100_000_00)
        let shipped = try credit.load()
        let r = try credit.present(Presentation(shippedOnBoard: shipped))
        #expect(r.succeeded, "\(r.status)")
        #expect(credit.event("Complying", in: r) != nil, "\(credit.discrepancies(in: r) ?? [])")
        #expect(try chain.balance(chain.exporter) == 100_000_00)
        #expect(try chain.balance(credit.address) == 0)
    }
}

@Suite("Letter of credit: reading state")
struct LetterOfCreditReadTests {
    @Test("read-only calls and storage reads see the credit's state without changing it")
    func queries() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let root = chain.ledger.stateRoot
        let status = try chain.ledger.readOnlyCall(credit.address, input: ABI.encodeCall("status", []), caller: chain.address(chain.exporter))
        #expect(status.succeeded && status.output == ABI.encode(.int(LC.CreditState.issued.value)))
        let available = try chain.ledger.readOnlyCall(credit.address, input: ABI.encodeCall("available_amount", []), caller: chain.address(chain.exporter))
        #expect(available.output == ABI.encode(.int(100_000_00)))
        // A state-changing function runs too, but nothing it does is kept.
        let advise = try chain.ledger.readOnlyCall(credit.address, input: ABI.encodeCall("cancel_draft", []), caller: chain.address(chain.importer))
        #expect(advise.failure?.contains("irrevocable") == true)
        #expect(chain.ledger.stateRoot == root)
        #expect(try chain.ledger.contractStorage(credit.address, key: Array("amount".utf8)) == (0..<8).map { UInt8(truncatingIfNeeded: UInt64(100_000_00) >> UInt64(56 - 8 * $0)) })
        #expect(try chain.ledger.contractStorage(credit.address, key: Array("nothing".utf8)) == nil)
        let notContract = try chain.ledger.readOnlyCall(chain.address(chain.exporter), input: ABI.encodeCall("status", []), caller: chain.address(chain.exporter))
        #expect(notContract.failure?.contains("is not a contract") == true)
    }
}

@Suite("Letter of credit: the escrow")
struct LetterOfCreditEscrowTests {
    @Test("a plain transfer to the credit's contract is refused: value reaches it only with a call it accounts for")
    func noStrayFunds() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let r = try chain.commit([try chain.tx(chain.importer, .transfer, TransferPayload(to: credit.address, currency: chain.usd, amount: 5))])[0]
        #expect(r.failureMessage?.contains("is a contract; send value to it with a call_contract transaction") == true, "\(r.status)")
        #expect(try chain.balance(credit.address) == 100_000_00)
    }
}

@Suite("Letter of credit: the vocabulary comes from the contract")
struct LetterOfCreditVocabularyTests {
    @Test("every code the tests name is a constant of the compiled contract, and the ABI JSON lists the constants")
    func namesAreConstantsOfTheContract() throws {
        let compiled = TradeChain.letterOfCredit
        for name in LC.allNames {
            #expect(compiled.constant(name) != nil, "\(name) is not a constant of contracts/letter_of_credit.hc")
        }
        #expect(compiled.abiJSON.contains("\"constants\": ["))
        #expect(compiled.abiJSON.contains("{\"name\": \"D_TRANSPORT_REUSED\", \"type\": \"int\", \"value\": 16384}"))
        // Discrepancy bits are distinct powers of two.
        let bits = LC.Discrepancy.allCases.map(\.value)
        #expect(Set(bits).count == bits.count && bits.allSatisfy { $0 > 0 && $0 & ($0 - 1) == 0 })
    }
}
