/**
 * The designs compared, by name, built for a run (some size themselves from the offered load,
 * as their authors would from a forecast): 0 today, A escrowed lanes, B pool shards, C lane
 * batchers, D container-owned escrow lanes as specified, D+ the variant the simulation
 * found it needs, E the lanes as the build has them (one reserve, chunks that grow with the
 * lanes open), and E+ the build with claims that also fill lanes no container owns yet.
 */
import { type DesignOptions, defaultDesignOptions } from '../design';
import { Zipf } from '../rng';
import { MEAN_Q, type RunConfig, subAccountsFor } from '../run';
import { batchersDesign } from './batchers';
import { escrowDesign } from './escrow';
import { lanesDesign } from './lanes';
import { shardsDesign } from './shards';
import { today } from './today';

export const DESIGN_NAMES = ['0', 'A', 'B', 'C', 'D', 'D+', 'E', 'E+'] as const;
export type DesignName = (typeof DESIGN_NAMES)[number];

/** What each design is run with, beyond the shared defaults. */
export const designOptions: Record<DesignName, Partial<DesignOptions>> = {
  '0': {},
  A: {},
  B: {},
  C: {},
  D: {},
  // The variant: 32 entry partitions (16 carry 1,250 WCU/s each at 10,000/s), 3 s chunks.
  'D+': { entryShards: 32, chunkSeconds: 3 },
  // As built: 32 entry partitions; the lease is the build's 60 s (the runs are shorter: no sweeps of busy lanes).
  E: { entryShards: 32, laneLeaseMs: 60_000 },
  'E+': { entryShards: 32, laneLeaseMs: 60_000 },
};

/** The design and its options for a run of this load. */
export function designFor(name: DesignName, cfg: Pick<RunConfig, 'rate' | 'shape' | 'subs' | 'zipfS'>) {
  const zipf = new Zipf(subAccountsFor(cfg).length, cfg.zipfS);
  const rateOf = (sub: { id: number }) => cfg.rate * zipf.p(sub.id);
  const spend = cfg.rate * MEAN_Q;
  const options = { ...defaultDesignOptions, ...designOptions[name] };
  switch (name) {
    case '0':
      return { design: today, options };
    case 'A':
      return { design: escrowDesign({ rateOf, uncollapseCredits: spend * 30, meanQ: MEAN_Q }), options };
    case 'B':
      return { design: shardsDesign(), options };
    case 'C':
      return { design: batchersDesign({ rateOf, meanQ: MEAN_Q }), options };
    case 'D':
      return {
        design: lanesDesign({ uncollapseCredits: spend * 0.5, reserveShards: 1, quietLimitedOnPoolLane: false }, 'D'),
        options,
      };
    case 'D+':
      return {
        design: lanesDesign({ uncollapseCredits: spend * 0.5, reserveShards: 64, quietLimitedOnPoolLane: true }, 'D+'),
        options,
      };
    case 'E':
      return {
        design: lanesDesign(
          { uncollapseCredits: spend * 0.5, reserveShards: 1, quietLimitedOnPoolLane: true, chunksAsBuilt: true },
          'E',
        ),
        options,
      };
    case 'E+':
      return {
        design: lanesDesign(
          {
            uncollapseCredits: spend * 0.5,
            reserveShards: 1,
            quietLimitedOnPoolLane: true,
            chunksAsBuilt: true,
            prefilledLanes: 64,
          },
          'E+',
        ),
        options,
      };
  }
}
