// Who published a stored message, as far as something proves it (docs/events.md, "Who published
// it"). A region's own subject proves the region: with NATS authorization on, only its user may
// publish there, and a header there is the region's own claim. Elsewhere (API, admin, legacy shared,
// dispatched) only the coordinator may publish once authorization is on, and it says who in a header.
import { regionOfSubject } from './subjects.js';

/** The NATS header the coordinator sets to the principal it authenticated. */
export const PRINCIPAL_HEADER = 'Jzse-Principal';

export const regionPrincipal = (region: string): string => `region:${region}`;
export const coordinatorPrincipal = (coordinatorId: string): string => `coordinator:${coordinatorId}`;

/** null: nothing proves who (published before authentication, or where nothing checks). */
export const provenPrincipal = (subject: string, header: string | undefined): string | null => {
  const region = regionOfSubject(subject);
  if (region !== undefined) return regionPrincipal(region);
  return header === undefined || header === '' ? null : header;
};
