import ChainTypes

// Time, in ticks: the view-change timer (§4.4, with bounded backoff) and retransmission.
extension PBFTReplica {
    mutating func onTick(now: UInt64, hasPendingWork pending: Bool, oldestPending: Hash?) {
        tickCount += 1
        nowMillis = now
        hasPendingWork = pending
        ticksSinceRetransmit += 1
        if requestTimerExpired(oldestPending: oldestPending) {
            // §4.4: the primary left out a transaction this replica has waited for too long,
            // though it may have committed other blocks meanwhile.
            startViewChange(to: view + 1)
            return
        }

        if isViewChanging {
            // §4.5.2: the timer runs only once a quorum asked for this view or a later one, so a
            // replica that is cut off does not race through views alone (and strand itself
            // ahead of the others).
            let current = view
            let support = viewChanges.values.filter { $0.newView >= current }.count
            if support >= config.quorum {
                idleTicks += 1
                if idleTicks >= timeoutTicks {
                    // No new view in time: try the next primary, with a longer (capped) timeout.
                    startViewChange(to: view + 1)
                    return
                }
            }
        } else if pending || acceptedForNextHeight != nil || syncTarget > tip.height {
            idleTicks += 1
            if idleTicks >= timeoutTicks {
                startViewChange(to: view + 1)
                return
            }
        } else {
            idleTicks = 0
        }
        if ticksSinceRetransmit >= config.limits.retransmitIntervalTicks && (idleTicks > 0 || isViewChanging) {
            ticksSinceRetransmit = 0
            retransmit()
        }
        requestSyncIfDue(force: false)
        maybePropose()
    }

    /// The request timer (Castro & Liskov 1999, §4.4), per transaction: it restarts whenever
    /// the shell's oldest pending transaction changes and — unlike the progress timer — not
    /// on a commit that leaves that transaction out, so a primary cannot censor it forever by
    /// committing other blocks. It allows two normal-case rounds (`2 × timeout`): with one
    /// height in flight, a transaction that arrives just after a proposal waits for that block
    /// and then for its own. It runs only in the normal case; a new view restarts it.
    mutating func requestTimerExpired(oldestPending: Hash?) -> Bool {
        guard oldestPending == awaitedTransaction, oldestPending != nil else {
            awaitedTransaction = oldestPending
            awaitedTicks = 0
            return false
        }
        guard !isViewChanging else { return false }
        #if HANSA_FLAWS
        if config.has(.commitResetsRequestTimer) { return false }
        #endif
        awaitedTicks += 1
        return awaitedTicks >= 2 * timeoutTicks
    }

    /// Re-sends this replica's own latest messages for the work in flight, so lost messages
    /// delay progress instead of stopping it. Re-sending the same signed bytes is no new signature.
    mutating func retransmit() {
        if isViewChanging {
            if let vc = viewChanges[index], vc.newView == view { broadcast(.viewChange(vc)) }
            return
        }
        if let pp = acceptedForNextHeight {
            if pp.proposerIndex == selfIndex16 { broadcast(.prePrepare(pp)) }
            if let mine = prepares[pp.height]?[index], mine.view == view { broadcast(.vote(mine)) }
            if let mine = commits[pp.height]?[index], mine.view == view { broadcast(.vote(mine)) }
        }
        if isPrimary, let nv = lastNewView, nv.view == view, acceptedForNextHeight == nil || tip.height == 0 {
            broadcast(.newView(nv))
        }
        if let cp = checkpoints[index], cp.height == tip.height { broadcast(.checkpoint(cp)) }
    }
}
