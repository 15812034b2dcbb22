def handle(event, context):
    return {"batchItemFailures": []}
