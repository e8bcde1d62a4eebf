/**
 * A worker's serving view of one (model, catalog version): per tenant, its offers (a contiguous block of the
 * catalog, sorted by offer id), the eligibility columns and the scorer with the offer side baked in.
 *
 * Built once per version, off the request path where possible (see worker.ts), and immutable afterwards: a
 * task takes the view current at its start and uses it to the end, so a swap never changes a decision half
 * way. The view counts the tasks using it and releases its ONNX sessions only when it is both retired and
 * unused.
 */
import type { CatalogSnapshot, Offer, Placement, Tenant } from '../../src/catalog/types.js';
import { offerMatrix } from '../../src/features/offer.js';
import type { LoadedModel } from '../../src/model/model-dir.js';
import { Scorer, computeOfferSide } from '../../src/model/scorer.js';
import { bidScale } from '../../src/ranking/bid-scale.js';
import type { CampaignTable } from '../../src/delivery/campaign-table.js';
import type { Campaign, Rule } from '../../src/catalog/types.js';
import { TenantDelivery } from './tenant-delivery.js';

export interface TenantView {
  tenant: Tenant;
  placements: Map<string, Placement>;
  offers: Offer[];
  /** n x OFFER_DIM offer features (src/features/offer.ts), as the model's offer tower reads them. */
  offerFeatures: Float32Array;
  /** Eligibility, bids, caps, budgets and pacing of this tenant's offers (tenant-delivery.ts). */
  delivery: TenantDelivery;
  /** bidScale of each offer (src/ranking/bid-scale.ts), as baked into the scorer. */
  bidScale: Float32Array;
  scorer: Scorer;
}

export class CatalogView {
  private users = 0;
  private retired = false;
  private released = false;

  private constructor(
    readonly catalogVersion: number,
    readonly modelVersion: string,
    readonly tenants: Map<string, TenantView>,
  ) {}

  static async build(snapshot: CatalogSnapshot, model: LoadedModel, table: CampaignTable): Promise<CatalogView> {
    const byTenant = new Map<string, Offer[]>();
    const campaignsOf = new Map<string, Campaign[]>();
    const rulesOf = new Map<string, Rule[]>();
    for (const t of snapshot.tenants) {
      byTenant.set(t.id, []);
      campaignsOf.set(t.id, []);
      rulesOf.set(t.id, []);
    }
    // The loader sorts offers by (tenant, id); grouping keeps that order inside each tenant.
    for (const o of snapshot.offers) byTenant.get(o.tenant)?.push(o);
    // Versions stored before campaigns and rules existed have neither.
    for (const c of snapshot.campaigns ?? []) campaignsOf.get(c.tenant)?.push(c);
    for (const r of snapshot.rules ?? []) rulesOf.get(r.tenant)?.push(r);
    const tenants = new Map<string, TenantView>();
    try {
      for (const tenant of snapshot.tenants) {
        const offers = byTenant.get(tenant.id) ?? [];
        const n = offers.length;
        const features = offerMatrix(offers, tenant.currency);
        const { emb, bias } = await computeOfferSide(model, features, n);
        const scale = new Float32Array(n);
        for (let i = 0; i < n; i++) scale[i] = bidScale(offers[i].bid);
        const delivery = new TenantDelivery(tenant, offers, campaignsOf.get(tenant.id) ?? [], rulesOf.get(tenant.id) ?? [], scale, table);
        const scorer = await Scorer.create(model, emb, bias, scale, n);
        tenants.set(tenant.id, {
          tenant,
          placements: new Map(tenant.placements.map((p) => [p.id, p])),
          offers,
          offerFeatures: features,
          delivery,
          bidScale: scale,
          scorer,
        });
      }
    } catch (err) {
      await Promise.all([...tenants.values()].map((t) => t.scorer.release()));
      throw err;
    }
    return new CatalogView(snapshot.version, model.manifest.version, tenants);
  }

  /**
   * The same catalog version under another model: only the offer side and the scorers are rebuilt. Offers,
   * placements, bid scales and each tenant's delivery state (eligibility index, caps, campaign slots) depend
   * on the catalog alone, so they are shared with `prev`; building them was most of a model swap's cost (and
   * is synchronous, so it held up the worker's queued tasks). Sharing is safe: both views live on this
   * worker's thread, and TenantDelivery's scratch is used synchronously per request, as two tasks of one
   * view already share it.
   */
  static async withModel(prev: CatalogView, model: LoadedModel): Promise<CatalogView> {
    const tenants = new Map<string, TenantView>();
    try {
      for (const [id, t] of prev.tenants) {
        const n = t.offers.length;
        // The offer features depend on the catalog only: a model swap reuses them (they were a fifth of a
        // swap's worker time at 10,000 offers).
        const { emb, bias } = await computeOfferSide(model, t.offerFeatures, n);
        const scorer = await Scorer.create(model, emb, bias, t.bidScale, n);
        tenants.set(id, { ...t, scorer });
      }
    } catch (err) {
      await Promise.all([...tenants.values()].map((t) => t.scorer.release()));
      throw err;
    }
    return new CatalogView(prev.catalogVersion, model.manifest.version, tenants);
  }

  get offerCount(): number {
    let n = 0;
    for (const t of this.tenants.values()) n += t.offers.length;
    return n;
  }

  acquire(): void {
    this.users++;
  }

  async releaseUse(): Promise<void> {
    this.users--;
    if (this.retired && this.users === 0) await this.releaseSessions();
  }

  /** No new task will take this view; its sessions go once the last task using it ends. */
  async retire(): Promise<void> {
    this.retired = true;
    if (this.users === 0) await this.releaseSessions();
  }

  private async releaseSessions(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await Promise.all([...this.tenants.values()].map((t) => t.scorer.release()));
  }
}
