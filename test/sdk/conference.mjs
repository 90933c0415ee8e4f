// Drives a conference through the official Bandwidth Node SDK: two calls
// join it (their answer BXML is <Conference>), then the SDK lists, reads and
// updates it. One JSON line per step, for internal/server/sdk_test.go.
import { CallsApi, ConferencesApi, Configuration, Bxml } from 'bandwidth-sdk';

const base = process.env.VH_BASE;
const app = process.env.VH_APP;
const account = process.env.VH_ACCOUNT;

const config = new Configuration({ username: 'dev', password: 'dev', basePath: base });
const calls = new CallsApi(config);
const conferences = new ConferencesApi(config);
const out = (step, data) => console.log(JSON.stringify({ step, ...data }));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const ids = [];
for (let i = 0; i < 2; i++) {
  const created = await calls.createCall(account, {
    from: '+15551112222', to: '+15550000000', applicationId: '04e88489-df02-4e34-a0ee-27a91849555f',
    answerUrl: `${app}/conf-answer`, disconnectUrl: `${app}/disconnect`,
  });
  ids.push(created.data.callId);
}
await sleep(1500); // they ring for a second, then join

const listed = await conferences.listConferences(account, 'sdk-room');
out('list', { status: listed.status, data: listed.data });
const id = listed.data[0].id;

const got = await conferences.getConference(account, id);
out('get', { status: got.status, data: got.data, calls: ids });

const muted = await conferences.updateConferenceMember(account, id, ids[0], { mute: true });
out('mute', { status: muted.status });
const member = await conferences.getConferenceMember(account, id, ids[0]);
out('member', { status: member.status, data: member.data });

const doc = new Bxml.Bxml([new Bxml.SpeakSentence('Welcome to the room')]);
const played = await conferences.updateConferenceBxml(account, id, doc.toBxml());
out('bxml', { status: played.status });

const ended = await conferences.updateConference(account, id, { status: 'completed' });
out('complete', { status: ended.status });
await sleep(300);
const after = await conferences.getConference(account, id);
out('after', { status: after.status, data: after.data });
