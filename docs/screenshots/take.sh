#!/bin/bash
set -e
# Screenshots of every page at 1280 and 390 px wide, full height, from a
# fresh data directory: the penguins sample with a recipe, two binary builds
# (one ranked by balanced accuracy) compared, a multiclass build, and a
# leaderboard row opened as a model. Needs `cargo xtask site`, `cargo build
# -p backend`, Chromium, curl and python3. Run from the repository root.
cd "$(dirname "$0")/../.."
OUT=${1:-docs/screenshots}
rm -rf /tmp/kd-shots; mkdir -p $OUT
target/debug/kiln serve --addr 127.0.0.1:8098 --data /tmp/kd-shots --site target/site > /tmp/kiln-shots.log 2>&1 &
PID=$!
sleep 1
U=http://127.0.0.1:8098
H=(-H "Origin: $U" -H "Host: 127.0.0.1:8098" -H 'Content-Type: application/json')
j() { python3 -c "import sys,json;d=json.load(sys.stdin);print($1)"; }
D=$(curl -s -X POST "${H[@]}" $U/api/samples/penguins | j "d['id']")
curl -s -X PUT "${H[@]}" -d '{"steps":[{"op":"drop_duplicates"},{"op":"impute","column":"bill_length_mm","strategy":"median"}]}' $U/api/datasets/$D/recipe > /tmp/recipe.json || true
build() { curl -s -X POST "${H[@]}" -d "$1" $U/api/builds | j "d['id']"; }
wait_b() { while curl -s -H "Host: 127.0.0.1:8098" $U/api/builds/$1 | grep -q '"state":"\(queued\|running\)"'; do sleep 1; done; }
B1=$(build "{\"dataset_id\":\"$D\",\"target\":\"sex\",\"time_budget_secs\":10,\"seed\":1}"); wait_b $B1
B2=$(build "{\"dataset_id\":\"$D\",\"target\":\"sex\",\"time_budget_secs\":10,\"seed\":2,\"exclude\":[\"island\"],\"metric\":\"balanced_accuracy\"}"); wait_b $B2
B3=$(build "{\"dataset_id\":\"$D\",\"target\":\"species\",\"time_budget_secs\":10}"); wait_b $B3
M1=$(curl -s -H "Host: 127.0.0.1:8098" $U/api/builds/$B1 | j "d['model_id']")
M3=$(curl -s -H "Host: 127.0.0.1:8098" $U/api/builds/$B3 | j "d['model_id']")
T=$(curl -s -H "Host: 127.0.0.1:8098" $U/api/builds/$B1 | j "d['leaderboard'][2]['trial']")
curl -s -X POST "${H[@]}" $U/api/builds/$B1/trials/$T/model > /dev/null
sleep 5
MT=$(curl -s -H "Host: 127.0.0.1:8098" $U/api/builds/$B1/models | j "[m['model_id'] for m in d if m['trial']==$T][0]")
pages="datasets:/ dataset:/datasets/$D prepare:/datasets/$D/prepare build-setup:/datasets/$D/build experiments:/builds build:/builds/$B1 model-binary:/models/$M1 model-multiclass:/models/$M3 model-leaderboard-row:/models/$MT compare:/compare?builds=$B1,$B2"
for p in $pages; do
  name=${p%%:*}; path=${p#*:}
  for size in 1280,2600 390,5200; do
    w=${size%%,*}
    timeout 90 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=$size --virtual-time-budget=8000 --screenshot=$OUT/$name-$w.png "$U$path" >/dev/null 2>&1 || echo "failed $name $w"
  done
done
kill $PID
ls -la $OUT
