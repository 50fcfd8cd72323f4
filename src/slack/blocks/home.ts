/** The App Home tab: token status, who may schedule, upcoming deletions, recent history, a button. Pure. */
import type { types } from '@slack/bolt';
import type { AccessPolicy } from '../../access/access-policy.js';
import type { FreezeState } from '../../access/freeze.js';
import { APPROVALS, FREEZE } from '../../messages/approvals.js';
import { code, dateToken } from '../../messages/mrkdwn.js';
import type { RequestRecord } from '../../scheduling/request-log.js';
import type { UpcomingDeletion } from '../../scheduling/upcoming.js';
import type { AuditEntry } from '../../store/store.js';
import type { TokenStatus } from '../../store/token-store.js';
import { ACTIONS } from '../ids.js';
import { SLACK_LIMITS } from '../limits.js';
import { describePolicy } from './access.js';
import { pendingLines } from './approval.js';
import { type Block, button, context, fitToCount, header, md, section } from './common.js';
import { historyLines } from './history.js';
import { statusText } from './token-modal.js';

export interface HomeInput {
  command: string;
  token: { status: TokenStatus | null; fallback: boolean } | null;
  access: AccessPolicy | null;
  /** Null when the viewer may not see them (neither an admin nor allowed to schedule anywhere). */
  upcoming: UpcomingDeletion[] | null;
  /** Where this page of upcoming deletions starts, and whether more follow. */
  upcomingPage?: { offset: number; more: boolean };
  /** Null when the viewer is not an admin (history is for admins). */
  history: AuditEntry[] | null;
  nowSeconds: number;
  /** The emergency stop; null when it could not be read. */
  freeze?: FreezeState | null;
  /** Requests waiting for approval; null when the viewer may not decide them (not shown). */
  pending?: RequestRecord[] | null;
}

/** Upcoming deletions shown per page of the App Home (each is one block; a view holds at most 100). */
export const HOME_PAGE_SIZE = 20;

function pagerBlocks(page: { offset: number; more: boolean } | undefined): Block[] {
  if (!page || (page.offset === 0 && !page.more)) return [];
  const pageButton = (text: string, offset: number) =>
    button({ text, actionId: ACTIONS.homePage, value: String(offset) });
  const elements = [
    ...(page.offset > 0 ? [pageButton('Previous', Math.max(0, page.offset - HOME_PAGE_SIZE))] : []),
    ...(page.more ? [pageButton('Next', page.offset + HOME_PAGE_SIZE)] : []),
  ];
  return [
    context(`Showing ${page.offset + 1}–${page.offset + HOME_PAGE_SIZE} and later, soonest first.`),
    ...(elements.length > 0 ? [{ type: 'actions', elements } satisfies types.ActionsBlock] : []),
  ];
}

/** Public and private channels: what the form's channel picker offers (not a DM, not a user ID). */
const PICKABLE = /^[CG][A-Z0-9]{2,40}$/;

/**
 * The block of an upcoming deletion in App Home names its channel when the form's picker can start
 * there: the Reschedule button's value stays the policy ID alone (as on the reminder), which every
 * version reads, so a rolling deploy or a rollback never reads a channel as part of an ID. The
 * place in the list keeps the block IDs unique (and short: Block Kit allows 255 characters).
 */
const UPCOMING_BLOCK = 'upcoming_in:';
const upcomingBlockId = (channelId: string, place: number): string | undefined =>
  PICKABLE.test(channelId) ? `${UPCOMING_BLOCK}${channelId}:${place}` : undefined;

/** The channel an App Home Reschedule button's block names (upcomingBlockId), if any. */
export function rescheduleChannelOf(blockId: string | undefined): string | null {
  if (!blockId?.startsWith(UPCOMING_BLOCK)) return null;
  const channelId = blockId.slice(UPCOMING_BLOCK.length).split(':')[0] ?? '';
  return PICKABLE.test(channelId) ? channelId : null;
}

function upcomingBlocks(items: UpcomingDeletion[], nowSeconds: number): Block[] {
  if (items.length === 0) return [section('_Nothing is scheduled through the bot._')];
  return items.slice(0, HOME_PAGE_SIZE).map((u, place) => {
    const due = u.at > nowSeconds;
    const target = u.targetId
      ? ` (${u.targetType === 'Disk' ? 'disk' : 'virtual machine'} ${code(u.targetId)})`
      : '';
    const blockId = due ? upcomingBlockId(u.channelId, place) : undefined;
    return {
      type: 'section',
      ...(blockId ? { block_id: blockId } : {}),
      text: md(
        `${due ? ':hourglass_flowing_sand:' : ':wastebasket:'} ${code(u.policyId)}${target} ${due ? 'moves to the trash' : 'was due to move to the trash'} on ${dateToken(u.at)}, scheduled by <@${u.scheduledBy}> in <#${u.channelId}>`,
        SLACK_LIMITS.sectionText,
      ),
      ...(due
        ? {
            accessory: button({
              text: 'Reschedule',
              actionId: ACTIONS.reschedule,
              value: u.policyId,
            }),
          }
        : {}),
    } satisfies types.SectionBlock;
  });
}

function freezeText(input: HomeInput): string {
  const f = input.freeze;
  if (f === undefined || f === null) return '*Emergency stop:* could not be read just now.';
  if (!f.frozen) return `*Emergency stop:* ${FREEZE.notFrozenStatus}`;
  return FREEZE.frozenStatus(f.by === 'admin' ? f.userId : null, input.command);
}

export function homeView(input: HomeInput): types.HomeView {
  const blocks: Block[] = [
    header('Katapult disk backup policies'),
    section(
      'Schedule a disk backup policy to move to Katapult’s trash, with a reminder before and an undo after.',
    ),
    {
      type: 'actions',
      elements: [
        button({ text: 'Schedule a deletion', actionId: ACTIONS.openSchedule, value: '', style: 'primary' }),
      ],
    },
    { type: 'divider' },
    header('Set-up'),
    section(
      input.token
        ? `*Katapult token:* ${statusText(input.token.status, input.token.fallback)}`
        : '*Katapult token:* could not be read just now.',
    ),
    section(
      input.access
        ? `*Who may schedule:* ${describePolicy(input.access)}`
        : '*Who may schedule:* could not be read just now.',
    ),
    section(freezeText(input)),
    context(
      `Admins change these with \`${input.command} token\`, \`${input.command} access\` and \`${input.command} freeze\` / \`unfreeze\`.`,
    ),
    { type: 'divider' },
    ...(input.pending
      ? [header(APPROVALS.pendingHeader), ...pendingLines(input.pending), { type: 'divider' } as Block]
      : []),
    header('Upcoming deletions'),
    ...(input.upcoming === null
      ? [section('_People who may schedule deletions see them here._')]
      : [...upcomingBlocks(input.upcoming, input.nowSeconds), ...pagerBlocks(input.upcomingPage)]),
    { type: 'divider' },
    header('Recent activity'),
    ...(input.history === null
      ? [section('_Workspace admins and owners see the recent activity here._')]
      : input.history.length === 0
        ? [section('_Nothing yet._')]
        : historyLines(input.history.slice(0, 10))),
  ];
  return { type: 'home', blocks: fitToCount(blocks, SLACK_LIMITS.viewBlocks) };
}
