// Package fakellm is a scripted fake model server for tests that run the
// real agent CLIs offline. It speaks the three wire formats those CLIs use,
// on a random 127.0.0.1 port:
//
//   - Anthropic Messages (Claude Code): POST /v1/messages (SSE or JSON;
//     `?beta=true` is fine), POST /v1/messages/count_tokens.
//   - OpenAI Responses (Codex): POST /v1/responses (SSE or JSON), with
//     function_call items and custom_tool_call items for freeform tools such
//     as apply_patch. Codex needs nothing else: no WebSocket, no /models.
//   - OpenAI Chat Completions (OpenCode): POST /v1/chat/completions (SSE
//     chunks ending in `data: [DONE]`, or JSON).
//   - Gemini (Gemini CLI, with GOOGLE_GEMINI_BASE_URL): POST
//     .../models/{model}:streamGenerateContent (SSE, data-only
//     GenerateContentResponse events) and :generateContent (JSON); tool
//     calls are functionCall parts, results come back as functionResponse
//     parts; :countTokens.
//   - GET /v1/models and /v1/models/{id}, Anthropic-shaped when the request
//     has an anthropic-version or x-api-key header, OpenAI-shaped otherwise.
//
// Routes match on the end of the path, so every base URL prefix works
// (/v1/responses, /responses, /proxy/v1/responses). HEAD / and GET / answer
// 200 (Claude Code probes the host). Anything else gets a provider-shaped
// 404; every request, known or not, is recorded. Amp is out of scope: its
// model calls run on Amp's own server, so with AMP_URL pointed here it only
// reaches /api/internal and fails on the 404 (WithHandler can stub more).
//
// # Scripting a test
//
// A test starts a server, points the agent at it and scripts the turns:
//
//	llm := fakellm.New(t)
//	llm.SetSteps(
//		fakellm.Bash("touch made.txt && echo made"), // request 1: a tool call
//		fakellm.Text("All done."),                   // request 2 carries the tool result
//	)
//	// Claude Code: ANTHROPIC_BASE_URL=llm.URL()
//	// Codex / OpenCode: base_url / baseURL = llm.OpenAIBaseURL()
//	...
//	reqs := llm.ModelRequests()
//	if got := reqs[1].LatestToolResults(); len(got) != 1 || !strings.Contains(got[0].Output, "made") { ... }
//
// Each model request that is a real turn consumes the next Step. An agent
// that runs a tool sends the result in a new request, which consumes the next
// step, so a script reads as the model's side of the conversation. Side
// requests do not consume steps: by default every request that offers no
// tools (OpenCode's title request before each prompt; Claude Code's title and
// quota requests when CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC is unset) is
// answered with a title (see DefaultSideRules, TitleReply, Scenario.Side).
// When the steps run out, Scenario.Fallback (default Text(DefaultText))
// answers, so an agent never hangs on an exhausted script. Remaining reports
// unconsumed steps; WaitFor blocks until a request arrives.
//
// Steps are made with Text, TextChunks, Thinking, Tool (any named tool),
// CustomTool, ApplyPatch, Calls (parallel calls), Error and Func, and with the
// portable helpers Bash, Write, Edit, Read, AskUserQuestion and ExitPlanMode.
// A portable call is resolved against the tools the request offers, because
// the agents name tools and arguments differently:
//
//	Bash          Claude Bash{command,description}, OpenCode bash{command,description},
//	              Codex exec_command{cmd} (or shell{command:[argv]}), Gemini run_shell_command
//	Write         Claude Write{file_path,content}, OpenCode write{filePath,content},
//	              Codex apply_patch custom call adding the file
//	Edit          Claude Edit{file_path,old_string,new_string}, OpenCode edit{filePath,oldString,newString},
//	              Gemini replace{file_path,old_string,new_string},
//	              Codex apply_patch custom call updating the file
//	Read          Claude Read{file_path}, OpenCode read{filePath}, Codex exec_command cat
//	AskUserQuestion  Claude AskUserQuestion, OpenCode question, Codex request_user_input
//	ExitPlanMode  Claude ExitPlanMode{plan}, preceded by a Write of the plan file when the
//	              request names one (2.1.332 reads the plan from that file, not the argument),
//	              plan_exit when offered, Codex <proposed_plan> text
//
// Argument keys come from the offered tool's JSON schema when the tool is
// offered. The Claude, Codex and OpenCode shapes above follow the captures in
// shared/fixtures/native; plan_exit and <proposed_plan> are best guesses
// that no capture exercised. Options chain on a Step: WithThinking, WithText, WithDelay (before
// the headers), WithEventDelay (between events, to interrupt a turn
// mid-stream), WithCut (drop the connection after n events), WithUsage and
// InStream (an error inside a 200 stream).
//
// Scripted errors are shaped like the provider's (Anthropic
// {"type":"error","error":{type,message}}, OpenAI {"error":{message,type,
// param,code}}). The agents retry 429 and 5xx with backoff, and each retry
// consumes a step: script one error per attempt (Repeat), or stop the
// retries. For Claude Code set APIError.NoRetry (sends x-should-retry:
// false) or CLAUDE_CODE_MAX_RETRIES=0; for Codex set request_max_retries = 0
// and stream_max_retries = 0 in its [model_providers.<id>] table. These
// knobs come from the agents' documentation and were not exercised against
// the CLIs captured in shared/fixtures/native.
//
// Markers gives the prompt-driven behavior of the fake server the fixtures
// were captured with (FAKE_BASH:, FAKE_WRITE:, FAKE_PATCH:, FAKE_TOOL:,
// FAKE_TEXT:, and FAKE_DONE: after a tool result); use it as a step or as the
// fallback.
//
// # JSON scenarios
//
// ParseScenario and LoadScenario read a Scenario from JSON, which is what the
// standalone server (go run ./internal/testkit/fakellm/cmd -scenario
// file.json -addr 127.0.0.1:18080) serves. The fields mirror the Go types:
//
//	{
//	  "steps": [
//	    {"text": "Hello"},
//	    {"chunks": ["Hel", "lo"]},
//	    {"thinking": "Let me look.", "text": "Looking."},
//	    {"text": "Running it.", "calls": [{"do": "bash", "command": "echo hi"}]},
//	    {"calls": [{"do": "write", "path": "a.txt", "content": "x\n"}]},
//	    {"calls": [{"do": "edit", "path": "a.txt", "old": "x", "new": "y"}]},
//	    {"calls": [{"do": "read", "path": "a.txt"}]},
//	    {"calls": [{"do": "ask", "questions": [{"header": "Color", "question": "Which color?",
//	        "options": [{"label": "Red"}, {"label": "Blue"}]}]}]},
//	    {"calls": [{"do": "exit_plan", "plan": "1. Do it"}]},
//	    {"calls": [{"name": "TodoWrite", "input": {"todos": []}, "id": "toolu_1"}]},
//	    {"calls": [{"name": "apply_patch", "raw": "*** Begin Patch\n..."}]},
//	    {"error": {"status": 429, "message": "slow down", "no_retry": true,
//	               "headers": {"retry-after": "0"}}},
//	    {"error": {"status": 529, "in_stream": true}, "text": "partial"},
//	    {"text": "a long answer", "cut_after": 3},
//	    {"text": "slow", "delay": "2s", "event_delay": 250},
//	    {"text": "counted", "usage": {"input_tokens": 10, "output_tokens": 5}, "stop_reason": "max_tokens"},
//	    {"markers": true}
//	  ],
//	  "side": [{"match": {"no_tools": true}, "reply": {"text": "Fake title"}}],
//	  "fallback": {"text": "Done."}
//	}
//
// Durations are Go duration strings or milliseconds. "do" is one of bash,
// write, edit, read, ask, exit_plan; without "do", "name" is the exact tool
// and "input" its JSON arguments (or "raw" a custom tool's freeform input).
// "side" omitted means the default rules, `[]` means none; a side rule with
// an empty reply answers with the default title. A match holds when all its
// set fields hold: no_tools, system_contains, user_contains, api
// ("anthropic", "openai-responses", "openai-chat"). Unknown fields are
// errors.
package fakellm
