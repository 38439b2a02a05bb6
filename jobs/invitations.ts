// Invitations to drawn experts: a notification job per invited seat, delivered through a channel adapter. The default
// channel writes a log line with ids only (an expert's name or phone never goes to the logs); a deployment plugs in
// its SMS or app channel by implementing InvitationChannel.
import type { Logger } from '../lib/logger';
import type { JobServices, QueueHandlers } from './contracts';

export interface Invitation {
  seatId: string;
  expertId: string;
  projectId: string;
  roomId: string;
  specialty: string;
  answerDueAt: Date | null;
}

/** Where invitations go: one method, so a test or a deployment swaps it without module mocks. */
export interface InvitationChannel {
  send(invitation: Invitation): Promise<void>;
}

export function logInvitationChannel(logger: Logger): InvitationChannel {
  return {
    async send(invitation) {
      // The seat alone: a log line holding both the seat and the expert would link an expert to a project (sealing).
      logger.info({ seatId: invitation.seatId, answerDueAt: invitation.answerDueAt?.toISOString() }, 'invitation sent');
    },
  };
}

const ACTOR = 'system:invitations';

export function createInvitationHandlers(
  services: JobServices,
  channel: InvitationChannel = logInvitationChannel(services.logger),
): Pick<QueueHandlers<'notifications'>, 'invitation'> {
  return {
    /** Sends one seat's invitation, if the seat is still waiting for its answer; records it on the project's timeline once. */
    invitation: async (job) => {
      const seat = await services.experts.getSeat(job.data.seatId);
      if (seat.status !== 'INVITED' || seat.expert_id === null) return `seat is ${seat.status}`;
      await channel.send({
        seatId: seat.id,
        expertId: seat.expert_id,
        projectId: seat.project_id,
        roomId: seat.room_id,
        specialty: seat.specialty,
        answerDueAt: seat.answer_due_at,
      });
      await services.projects.appendEvent(seat.project_id, {
        kind: 'EXPERT_INVITED',
        actor: ACTOR,
        detail: `seat ${seat.id} (${seat.specialty} in room ${seat.room_id}, round ${seat.round}) invited; answer due ${seat.answer_due_at?.toISOString() ?? 'now'}`,
        data: { seatId: seat.id, drawId: seat.draw_id, round: seat.round },
        key: `expert_invited:${seat.id}`,
      });
      return 'sent';
    },
  };
}
