/**
 * The Smart Segment card on the contact record (sidebar). HubSpot runs it in a sandboxed worker built only
 * from `@hubspot/ui-extensions`: it reads the written-back `smart_segment*` properties with
 * `useCrmProperties` and shows them with HubSpot's own Tag / DescriptionList, so reps see the segment
 * without opening anything. "Open explorer" fetches a 5-minute token from our backend with
 * `hubspot.fetch()` (HubSpot signs that request and adds portalId / userId) and opens the Lit explorer
 * page in `openIframeModal` with the token in its URL: HubSpot does not sign iframe loads.
 *
 * The backend origin comes from the config profile variable APP_BASE_URL when set, else the production
 * origin listed in app-hsmeta.json `permittedUrls` (hubspot.fetch only reaches URLs listed there).
 */
import React, { useState } from 'react';
import {
  Button, DescriptionList, DescriptionListItem, EmptyState, ErrorState, Flex, hubspot, LoadingSpinner, Tag, Text,
} from '@hubspot/ui-extensions';
import type { CrmContext, OpenIframeModalAction } from '@hubspot/ui-extensions';
import { useCrmProperties } from '@hubspot/ui-extensions/crm';

export const DEFAULT_APP_BASE_URL = 'https://smart-segments.example.com';
export const SEGMENT_PROPERTIES = ['smart_segment', 'smart_segment_strategy', 'smart_segment_model'];

type TagVariant = 'default' | 'warning' | 'success' | 'error' | 'info';

/** The segment's tag colour by archetype (segment ids start with the archetype they were named from). */
export function segmentVariant(segment: string): TagVariant {
  if (segment.startsWith('loyal')) return 'success';
  if (segment.startsWith('profitable')) return 'info';
  if (segment.startsWith('risky')) return 'error';
  if (segment === 'no_recent_orders') return 'warning';
  return 'default';
}

/** "profitable_2" -> "Profitable 2". */
export function segmentLabel(segment: string): string {
  const words = segment.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function appBaseUrl(context: Pick<CrmContext, 'variables'>): string {
  const fromProfile = context.variables?.APP_BASE_URL;
  return (typeof fromProfile === 'string' && fromProfile !== '' ? fromProfile : DEFAULT_APP_BASE_URL).replace(/\/+$/, '');
}

interface CardProps {
  context: CrmContext;
  openIframeModal: OpenIframeModalAction;
}

export function SmartSegmentCard({ context, openIframeModal }: CardProps): React.JSX.Element {
  const { properties, isLoading, error } = useCrmProperties(SEGMENT_PROPERTIES);
  const [opening, setOpening] = useState(false);
  const [openError, setOpenError] = useState<string | null>(null);
  const base = appBaseUrl(context);

  const openExplorer = async (): Promise<void> => {
    setOpening(true);
    setOpenError(null);
    try {
      const res = await hubspot.fetch(`${base}/api/iframe-token`, { method: 'GET', timeout: 10_000 });
      if (!res.ok) throw new Error(`the Smart Segments server answered ${res.status}`);
      const { token } = (await res.json()) as { token: string };
      const uri = `${base}/explorer?portalId=${context.portal.id}&contactId=${context.crm.objectId}&token=${encodeURIComponent(token)}`;
      openIframeModal({ uri, width: 1200, height: 800, title: 'Smart Segments explorer', flush: true });
    } catch (e) {
      setOpenError(e instanceof Error ? e.message : String(e));
    } finally {
      setOpening(false);
    }
  };

  if (isLoading) return <LoadingSpinner label="Loading the smart segment" />;
  if (error) {
    return (
      <ErrorState title="The smart segment could not be loaded">
        <Text>{error.message}</Text>
      </ErrorState>
    );
  }
  const segment = properties.smart_segment ?? '';
  const strategy = properties.smart_segment_strategy ?? '';
  const model = properties.smart_segment_model ?? '';

  return (
    <Flex direction="column" gap="small">
      {segment === '' ? (
        <EmptyState title="No segment yet" layout="vertical" imageWidth={80}>
          <Text>Segments appear after an admin fits and publishes a model in the explorer.</Text>
        </EmptyState>
      ) : (
        <DescriptionList direction="column">
          <DescriptionListItem label="Segment">
            <Tag variant={segmentVariant(segment)}>{segmentLabel(segment)}</Tag>
          </DescriptionListItem>
          {strategy !== '' && (
            <DescriptionListItem label="Strategy">
              <Text>{strategy}</Text>
            </DescriptionListItem>
          )}
          {model !== '' && (
            <DescriptionListItem label="Model">
              <Text variant="microcopy">{model}</Text>
            </DescriptionListItem>
          )}
        </DescriptionList>
      )}
      <Button onClick={() => void openExplorer()} disabled={opening} variant="secondary">
        {opening ? 'Opening…' : 'Open explorer'}
      </Button>
      {openError !== null && <Text variant="microcopy">The explorer could not be opened: {openError}</Text>}
    </Flex>
  );
}

hubspot.extend<'crm.record.sidebar'>(({ context, actions }) => (
  <SmartSegmentCard context={context} openIframeModal={actions.openIframeModal} />
));
