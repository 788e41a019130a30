# ImageNet-1k classifier: a RegNet, global average pooling, a linear head.
# Configs pick the arch with model.backbone.arch and set model.head.in_channels
# to its last stage width (tests check that they match).
model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmregnet.RegNet', arch='regnetx_400mf'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=384,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
    ))
