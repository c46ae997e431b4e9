import ChainTypes

// Time, in ticks: the view-change timer (§4.4, with bounded backoff) and retransmission.
extension PBFTReplica {
    mutating func onTick(now: UInt64, hasPendingWork pending: Bool) {
        tickCount += 1
        nowMillis = now
        hasPendingWork = pending
        ticksSinceRetransmit += 1

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
