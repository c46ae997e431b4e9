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
