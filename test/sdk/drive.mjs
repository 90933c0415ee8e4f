// Drives voicehook through the official Bandwidth Node SDK, as an app
// written against Bandwidth would. It prints one JSON line per step for the
// Go test that runs it (internal/server/sdk_test.go) to check.
import { CallsApi, Configuration, Bxml } from 'bandwidth-sdk';

const base = process.env.VH_BASE;       // http://127.0.0.1:port/api/v2
const app = process.env.VH_APP;         // the test's app server
const account = process.env.VH_ACCOUNT; // 9900000

const calls = new CallsApi(new Configuration({ username: 'dev', password: 'dev', basePath: base }));
const out = (step, data) => console.log(JSON.stringify({ step, ...data }));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function expectError(step, fn) {
  try {
    await fn();
    out(step, { status: 0 });
  } catch (e) {
    out(step, { status: e.response?.status ?? -1, body: e.response?.data });
  }
}

const created = await calls.createCall(account, {
  from: '+15551112222',
  to: '+15550000000',
  applicationId: '04e88489-df02-4e34-a0ee-27a91849555f',
  answerUrl: `${app}/answer`,
  answerMethod: 'POST',
  disconnectUrl: `${app}/disconnect`,
  disconnectMethod: 'POST',
  callTimeout: 10,
  callbackTimeout: 5,
  tag: 'sdk-tag',
  priority: 2,
});
out('create', { status: created.status, location: created.headers.location, data: created.data });
const callId = created.data.callId;

await sleep(1500); // it rings for a second, then runs the answer BXML
const state = await calls.getCallState(account, callId);
out('get', { status: state.status, data: state.data });

const redirected = await calls.updateCall(account, callId, { redirectUrl: `${app}/redirect`, tag: 'moved' });
out('redirect', { status: redirected.status });
await sleep(300);

const doc = new Bxml.Bxml([new Bxml.SpeakSentence('Goodbye <break time="500ms"/> now'), new Bxml.Hangup()]);
const replaced = await calls.updateCallBxml(account, callId, doc.toBxml());
out('bxml', { status: replaced.status, sent: doc.toBxml() });

await sleep(2000);
const listed = await calls.listCalls(account);
out('list', { status: listed.status, ids: listed.data.map((c) => c.callId), states: listed.data.map((c) => c.state) });

await expectError('invalid', () => calls.createCall(account, {
  from: '+15551112222', to: 'not-a-number', applicationId: '04e88489-df02-4e34-a0ee-27a91849555f', answerUrl: `${app}/answer`,
}));
await expectError('notfound', () => calls.getCallState(account, 'c-00000000-00000000-0000-0000-0000-000000000000'));
const wrong = new CallsApi(new Configuration({ username: 'dev', password: 'wrong', basePath: base }));
await expectError('unauthorized', () => wrong.getCallState(account, callId));
// A hang-up just after the end succeeds (test/sdk/lenient.mjs); a redirect does not.
await expectError('ended', () => calls.updateCall(account, callId, { redirectUrl: `${app}/redirect` }));
