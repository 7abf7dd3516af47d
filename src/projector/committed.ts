// The newest view this instance knows to be committed in etcd (its standby's, or the last batch it
// committed as leader): point reads are served from it, and it outlives a term so a lost campaign
// reloads nothing. Offers only move it forward, so a reader never sees it go back.
import type { View } from '../../projections/view.js';

export class CommittedView {
  private view: View | undefined;

  get = (): View | undefined => this.view;

  offer = (view: View): void => {
    if (this.view === undefined || view.seq >= this.view.seq) this.view = view;
  };
}
