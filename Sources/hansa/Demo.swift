import ArgumentParser
import TradeFinance

/// `hansa demo`: one letter of credit through its life on an in-process ledger, narrated
/// (the scenario is `LetterOfCreditDemo` in the TradeFinance library).
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a letter of credit through its lifecycle on an in-process chain and narrate it.",
        discussion: """
        Compiles contracts/letter_of_credit.hc, deploys it on a development chain held in \\
        memory, and plays the parties: issuance with escrow, advice, the carrier's shipping \\
        events, a presentation with a discrepancy, the applicant's waiver, automatic payment \\
        when the goods arrive, and the refund of the unused tolerance at expiry.
        """)

    @Option(help: "The letter-of-credit source.")
    var contract: String = "contracts/letter_of_credit.hc"

    func run() throws {
        do { try LetterOfCreditDemo.run(contract: contract) { print($0) } } catch let e as TradeFinanceError { throw CLIError(e.description) }
    }
}
